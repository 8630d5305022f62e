# SPDX-License-Identifier: MIT
"""notifierd's configuration: flags, NOTIFIER_* variables and the TOML file
(docs/configuration.md).

Values are checked through behaviour (the POST /publish size limit, the
listen address, publish keys), precedence through behaviour and through
--check-config, and every refusal through its exit status (2), its message
(naming the option, and FILE:LINE for the file) and the absence of the
"listening" line.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import tempfile
import unittest
from unittest import mock
from pathlib import Path

from notifier_testlib import REPO_ROOT, TIMEOUT, NotifierServer, notifierd_path, post_publish

KEY = "publish-key-0123456789"
OTHER_KEY = "another-publish-key-abcdef"


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment without any NOTIFIER_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env.update(extra or {})
    return env


def body_of(size: int) -> str:
    """A valid notification whose JSON is exactly `size` bytes."""
    base = json.dumps({"collection": "c", "action": "create", "id": 1, "data": ""})
    return json.dumps({"collection": "c", "action": "create", "id": 1, "data": "x" * (size - len(base))})


class ConfigTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="notifierd-config-"))
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", str(self.dir)], check=False))

    def write(self, text: str, name: str = "notifierd.toml") -> str:
        path = self.dir / name
        path.write_text(text)
        return str(path)

    def run_notifierd(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([notifierd_path(), *args], capture_output=True, text=True, timeout=TIMEOUT * 2,
                              env=clean_env(env), stdin=subprocess.DEVNULL)

    def start(self, *flags: str, env: dict[str, str] | None = None, listen: str | None = "127.0.0.1:0"):
        server = NotifierServer(*flags, listen=listen)
        # NotifierServer passes os.environ on: make it the clean one meanwhile.
        with mock.patch.dict(os.environ, clean_env(env), clear=True):
            server.start()
        self.addCleanup(server.kill)
        return server

    def check_config(self, *args: str, env: dict[str, str] | None = None) -> dict[str, tuple[str, str]]:
        """Runs --check-config; returns {key: (value, origin)} of the set options."""
        r = self.run_notifierd(*args, "--check-config", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("listening", r.stdout)
        effective = {}
        for line in r.stdout.splitlines():
            m = re.fullmatch(r"([a-z-]+) = (.*?)\s+# (.*)", line)
            if m:
                effective[m.group(1)] = (m.group(2), m.group(3))
        self.assertIn("listen", effective, r.stdout)
        return effective

    def assert_refused(self, r: subprocess.CompletedProcess, *expected: str):
        """Exit 2, nothing listening, and each of `expected` in the message."""
        self.assertEqual(r.returncode, 2, f"stdout: {r.stdout!r} stderr: {r.stderr!r}")
        self.assertNotIn("listening", r.stdout)
        for text in expected:
            self.assertIn(text, r.stderr)

    def assert_publish_limit(self, server: NotifierServer, limit: int):
        """Bodies up to `limit` bytes are accepted, larger ones refused with 413."""
        self.assertEqual(publish_status(server, body_of(limit)), 202)
        self.assertEqual(publish_status(server, body_of(limit + 1)), 413)


def publish_status(server: NotifierServer, body: str) -> int:
    """POST /publish on the server's own address (not always 127.0.0.1)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=TIMEOUT)
    try:
        conn.request("POST", "/publish", body=body.encode(), headers={"Content-Type": "application/json"})
        res = conn.getresponse()
        res.read()
        return res.status
    finally:
        conn.close()


class FileTest(ConfigTestCase):
    def test_file_values_are_applied(self):
        path = self.write('max-publish-bytes = 300\nlisten = "127.0.0.2:0"\n')
        server = self.start("--config", path, listen=None)
        self.assertEqual(server.host, "127.0.0.2")
        self.assert_publish_limit(server, 300)
        server.stop()

    def test_config_file_from_the_environment(self):
        path = self.write("max-publish-bytes = 300\n")
        server = self.start(env={"NOTIFIER_CONFIG": path})
        self.assert_publish_limit(server, 300)
        server.stop()

    def test_arrays_for_repeatable_options(self):
        path = self.write(f'publish-key = ["{KEY}", "{OTHER_KEY}"]\n')
        server = self.start("--config", path)
        note = {"collection": "c", "action": "create", "id": 1}
        self.assertEqual(post_publish(server.port, note).status, 401)
        for key in (KEY, OTHER_KEY):
            res = post_publish(server.port, note, headers={"Content-Type": "application/json",
                                                           "Authorization": f"Bearer {key}"})
            self.assertEqual(res.status, 202, res.body)
        server.stop()

    def test_empty_array_means_none(self):
        path = self.write("publish-key = []\nallow-origin = []\n")
        effective = self.check_config("--config", path)
        self.assertNotIn("publish-key", effective)  # printed as "# publish-key = (not set)"

    def test_example_file_is_valid(self):
        example = REPO_ROOT / "examples" / "notifierd.toml"
        effective = self.check_config("--config", str(example))
        self.assertEqual(effective["listen"], ('"127.0.0.1:8080"', f"{example}:8"))
        self.assertEqual(effective["max-connections-per-ip"], ("256", f"{example}:21"))
        # Placeholders (secrets, origins, Redis, PostgreSQL) stay commented out.
        for name in ("jwt-secret", "publish-keys-file", "allow-origin", "redis"):
            self.assertNotIn(name, effective)


class PrecedenceTest(ConfigTestCase):
    """flag > NOTIFIER_* variable > file > default."""

    def test_variable_overrides_file(self):
        path = self.write("max-publish-bytes = 300\n")
        server = self.start("--config", path, env={"NOTIFIER_MAX_PUBLISH_BYTES": "500"})
        self.assert_publish_limit(server, 500)
        server.stop()

    def test_flag_overrides_variable(self):
        path = self.write("max-publish-bytes = 300\n")
        server = self.start("--config", path, "--max-publish-bytes", "400",
                            env={"NOTIFIER_MAX_PUBLISH_BYTES": "500"})
        self.assert_publish_limit(server, 400)
        server.stop()

    def test_file_overrides_default(self):
        path = self.write("max-publish-bytes = 300\n")
        server = self.start("--config", path)
        self.assert_publish_limit(server, 300)
        server.stop()

    def test_flag_overrides_file_listen(self):
        path = self.write('listen = "127.0.0.2:0"\n')
        server = self.start("--config", path, listen="127.0.0.1:0")
        self.assertEqual(server.host, "127.0.0.1")
        server.stop()

    def test_check_config_reports_each_origin(self):
        path = self.write("history = 77\nmax-queue-bytes = 4096\nmax-publish-bytes = 300\n")
        effective = self.check_config("--config", path, "--max-publish-bytes", "400",
                                      env={"NOTIFIER_MAX_QUEUE_BYTES": "8192", "NOTIFIER_MAX_PUBLISH_BYTES": "500"})
        self.assertEqual(effective["history"], ("77", f"{path}:1"))
        self.assertEqual(effective["max-queue-bytes"], ("8192", "NOTIFIER_MAX_QUEUE_BYTES"))
        self.assertEqual(effective["max-publish-bytes"], ("400", "--max-publish-bytes"))
        self.assertEqual(effective["ping-interval"], ("30", "default"))

    def test_repeated_option_is_replaced_not_merged(self):
        path = self.write(f'publish-key = ["{KEY}"]\n')
        server = self.start("--config", path, "--publish-key", OTHER_KEY)
        note = {"collection": "c", "action": "create", "id": 1}
        auth = {"Content-Type": "application/json"}
        self.assertEqual(post_publish(server.port, note, headers={**auth, "Authorization": f"Bearer {KEY}"}).status,
                         401)
        self.assertEqual(
            post_publish(server.port, note, headers={**auth, "Authorization": f"Bearer {OTHER_KEY}"}).status, 202)
        server.stop()

    def test_check_config_redacts_secrets(self):
        secret = "a-jwt-secret-that-must-not-be-printed"
        effective = self.check_config("--publish-key", KEY, env={"NOTIFIER_JWT_SECRET": secret})
        self.assertEqual(effective["jwt-secret"], ('"(redacted)"', "NOTIFIER_JWT_SECRET"))
        self.assertEqual(effective["publish-key"], ('["(redacted)"]', "--publish-key"))


class RefusalTest(ConfigTestCase):
    """Every bad configuration: exit 2, a message naming the option and why,
    and nothing listening."""

    def test_file_errors(self):
        cases = {
            # name: (file text, what the message must contain)
            "string for a number": ('history = 5\nmax-queue-bytes = "lots"\n',
                                    [":2: max-queue-bytes: expected an integer, got a string"]),
            "out of range": ("max-queue-bytes = 5\n", [":1: max-queue-bytes:", "not in range 1024"]),
            "negative": ("history = -1\n", [":1: history: expected a non-negative integer"]),
            "bad listen address": ('listen = "localhost"\n', ["--listen: expected HOST:PORT", ".toml:1)"]),
            "unknown key": ("histroy = 5\n", [":1: unknown key 'histroy' (did you mean 'history'?)"]),
            "snake_case key": ("max_queue_bytes = 4096\n", ["unknown key 'max_queue_bytes'",
                                                             "did you mean 'max-queue-bytes'"]),
            "table": ("[server]\nlisten = \"127.0.0.1:0\"\n", ["unknown key 'server'", "no tables"]),
            "array of numbers": ("publish-key = [1, 2]\n", ["publish-key: expected an array of strings",
                                                           "element 1 is an integer"]),
            "string for a flag": ('insecure = "yes"\n', ["insecure: expected true or false, got a string"]),
            "array for a number": ("history = [1]\n", ["history: expected an integer, got an array"]),
            "zero rate": ("max-messages-per-second = 0\n", ["max-messages-per-second: must be greater than 0"]),
            "missing key file": ('jwt-public-key = "/nonexistent/key.pem"\n', ["jwt-public-key:",
                                                                             "/nonexistent/key.pem"]),
            "config in the file": ('config = "other.toml"\n', ["config: only a command-line option"]),
            "short publish key": ('publish-key = "short"\n', ["publish-key: publish keys must be at least 16 characters"]),
        }
        for name, (text, expected) in cases.items():
            with self.subTest(name=name):
                path = self.write(text)
                listen = [] if text.startswith("listen") else ["--listen", "127.0.0.1:0"]
                r = self.run_notifierd("--config", path, *listen)
                self.assert_refused(r, path, *expected)

    def test_syntax_error_names_file_line_and_column(self):
        path = self.write("history = 5\n\nmax-queue-bytes = = 4096\n")
        r = self.run_notifierd("--config", path)
        self.assert_refused(r, "TOML syntax error")
        self.assertRegex(r.stderr, re.escape(path) + r":3:\d+: ")

    def test_duplicate_key_is_a_syntax_error(self):
        path = self.write("history = 5\nhistory = 6\n")
        r = self.run_notifierd("--config", path)
        self.assert_refused(r, f"{path}:2:", "TOML syntax error")

    def test_unreadable_config_file(self):
        for name, path in {"missing": str(self.dir / "missing.toml"), "directory": str(self.dir)}.items():
            with self.subTest(name=name):
                r = self.run_notifierd("--config", path)
                self.assert_refused(r, "--config: cannot read", path)
        r = self.run_notifierd(env={"NOTIFIER_CONFIG": str(self.dir / "missing.toml")})
        self.assert_refused(r, "--config: cannot read")

    def test_variable_errors_name_the_variable(self):
        cases = {
            "NOTIFIER_MAX_QUEUE_BYTES": ("lots", "--max-queue-bytes: expected a non-negative integer"),
            "NOTIFIER_HISTORY": ("0", "--history:"),
            "NOTIFIER_LISTEN": ("nowhere", "--listen: expected HOST:PORT"),
        }
        for var, (value, expected) in cases.items():
            with self.subTest(var=var):
                r = self.run_notifierd(env={var: value})
                self.assert_refused(r, expected, f"(from {var})")

    def test_flag_errors(self):
        cases = {
            "string for a number": (["--max-publish-bytes", "big"], "--max-publish-bytes: expected a non-negative"),
            "out of range": (["--ping-interval", "100000"], "--ping-interval:"),
            "bad listen address": (["--listen", "127.0.0.1"], "--listen: expected HOST:PORT"),
            "unknown flag": (["--max-queue-byte", "4096"], "--max-queue-byte"),
        }
        for name, (args, expected) in cases.items():
            with self.subTest(name=name):
                self.assert_refused(self.run_notifierd(*args), expected)

    def test_postgres_options_need_each_other(self):
        if not built_with_postgres():
            path = self.write('tables = ["forums"]\n')
            self.assert_refused(self.run_notifierd("--config", path), "tables: this notifierd was built without "
                                                                      "PostgreSQL support")
            return
        self.assert_refused(self.run_notifierd("--tables", "forums,posts"), "--tables needs --postgres")
        self.assert_refused(self.run_notifierd("--postgres", "postgresql://127.0.0.1:1/none"),
                            "--postgres needs --tables")


class JwtSecretLengthTest(ConfigTestCase):
    """HS256 needs a secret of at least 256 bits (RFC 7518 section 3.2)."""

    SHORT = "s" * 31

    def assert_secret_refused(self, r: subprocess.CompletedProcess, *expected: str):
        self.assert_refused(r, "--jwt-secret: an HS256 secret must be at least 32 bytes", "RFC 7518", "got 31",
                            *expected)
        self.assertNotIn(self.SHORT, r.stderr)  # never printed

    def test_short_secret_is_refused_from_every_source(self):
        self.assert_secret_refused(self.run_notifierd("--listen", "127.0.0.1:0", "--jwt-secret", self.SHORT))
        self.assert_secret_refused(self.run_notifierd("--listen", "127.0.0.1:0",
                                                      env={"NOTIFIER_JWT_SECRET": self.SHORT}),
                                   "(from NOTIFIER_JWT_SECRET)")
        path = self.write(f'history = 5\njwt-secret = "{self.SHORT}"\n')
        self.assert_secret_refused(self.run_notifierd("--config", path), f"(from {path}:2)")
        # --check-config refuses what serving would.
        self.assert_secret_refused(self.run_notifierd("--jwt-secret", self.SHORT, "--check-config"))

    def test_secret_of_32_bytes_is_accepted(self):
        effective = self.check_config("--jwt-secret", "s" * 32, "--publish-key", KEY)
        self.assertEqual(effective["jwt-secret"], ('"(redacted)"', "--jwt-secret"))
        # Counted in bytes: 16 two-byte characters are 32 bytes.
        effective = self.check_config(env={"NOTIFIER_JWT_SECRET": "\u00e9" * 16})
        self.assertEqual(effective["jwt-secret"][1], "NOTIFIER_JWT_SECRET")


class UnknownFlagTest(ConfigTestCase):
    def test_mistyped_flag_gets_a_suggestion(self):
        cases = {
            ("--max-queue-byte", "4096"): "unknown option --max-queue-byte (did you mean --max-queue-bytes?)",
            ("--max_queue_bytes=4096",): "unknown option --max_queue_bytes (did you mean --max-queue-bytes?)",
            ("--jwt-secrte", "s" * 32): "unknown option --jwt-secrte (did you mean --jwt-secret?)",
            ("--lisen", "127.0.0.1:0"): "unknown option --lisen (did you mean --listen?)",
            ("--check-confg",): "unknown option --check-confg (did you mean --check-config?)",
        }
        for args, expected in cases.items():
            with self.subTest(args=args):
                self.assert_refused(self.run_notifierd(*args), f"notifierd: {expected}\n", "--help")

    def test_unknown_flag_without_a_close_one(self):
        r = self.run_notifierd("--completely-different", "1")
        self.assert_refused(r, "unknown option --completely-different")
        self.assertNotIn("did you mean", r.stderr)

    def test_stray_argument_keeps_the_general_message(self):
        r = self.run_notifierd("serve-please")
        self.assert_refused(r, "serve-please")
        self.assertNotIn("unknown option", r.stderr)


class ListenNameTest(ConfigTestCase):
    """--listen HOST:PORT with a host name (hub::listen resolves it)."""

    def test_localhost_is_resolved_and_served(self):
        server = self.start("--max-publish-bytes", "300", listen="localhost:0")
        self.assertEqual(server.host, "localhost")
        self.assert_publish_limit(server, 300)  # reached through the name
        server.stop()
        # Only loopback addresses: allowed without authentication, with the warning.
        self.assertIn("WITHOUT AUTHENTICATION", server.stderr())

    def test_check_config_treats_localhost_as_loopback(self):
        effective = self.check_config("--listen", "localhost:8080")
        self.assertEqual(effective["listen"], ('"localhost:8080"', "--listen"))
        path = self.write('listen = "localhost:8080"\n')
        self.assertEqual(self.check_config("--config", path)["listen"][0], '"localhost:8080"')

    def test_name_that_does_not_resolve_is_refused(self):
        # An empty label: refused by the resolver itself, without asking DNS.
        for args in (("--listen", "no..such:0"), ("--listen", "no..such:0", "--check-config")):
            with self.subTest(args=args):
                r = self.run_notifierd(*args)
                self.assert_refused(r, 'notifierd: --listen: cannot resolve "no..such"')


def built_with_postgres() -> bool:
    r = subprocess.run([notifierd_path(), "--help"], capture_output=True, text=True, timeout=TIMEOUT)
    return "--postgres " in r.stdout


class HelpTest(ConfigTestCase):
    def help(self) -> str:
        r = self.run_notifierd("--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_help_lists_every_option_with_its_variable_and_default(self):
        text = self.help()
        options = re.findall(r"^\s+--([a-z][a-z-]+)", text, re.MULTILINE)
        self.assertGreaterEqual(len(options), 27, text)
        for name in options:
            if name in ("help", "version", "check-config"):
                continue
            env = "NOTIFIER_" + name.upper().replace("-", "_")
            with self.subTest(option=name):
                self.assertRegex(text, rf"--{name}\b[^\n]*\(Env:{env}\)")
        for name, default in {"listen": "127.0.0.1:8080", "max-queue-bytes": "1048576", "history": "10000",
                              "max-connections-per-ip": "256", "max-messages-per-second": "50"}.items():
            with self.subTest(default=name):
                self.assertRegex(text, rf"--{name} [^\n]*={re.escape(default)} \(Env:")

    def test_documentation_lists_every_option(self):
        doc = (REPO_ROOT / "docs" / "configuration.md").read_text()
        for name in re.findall(r"^\s+--([a-z][a-z-]+)", self.help(), re.MULTILINE):
            if name == "help":
                continue
            with self.subTest(option=name):
                self.assertIn(f"`--{name}`", doc)


class PostgresCommandTest(ConfigTestCase):
    def setUp(self):
        super().setUp()
        if not built_with_postgres():
            self.skipTest("notifierd was built without PostgreSQL (no notifier::postgres target, "
                          "so no --postgres in --help)")

    def test_install_print_shows_sql_without_connecting(self):
        # Port 1 on loopback: a connection attempt would fail.
        url = "postgresql://nobody@127.0.0.1:1/none"
        r = self.run_notifierd("postgres", "install", "--postgres", url, "--tables", "forums,posts", "--print")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("PUBLICATION", r.stdout.upper())
        self.assertIn("forums", r.stdout)
        self.assertIn("posts", r.stdout)
        r = self.run_notifierd("postgres", "uninstall", "--postgres", url, "--tables", "forums", "--print",
                               "--postgres-slot", "other_slot")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("other_slot", r.stdout)

    def test_install_takes_options_from_the_file(self):
        path = self.write('postgres = "postgresql://nobody@127.0.0.1:1/none"\ntables = ["forums", "posts"]\n'
                          'postgres-publication = "from_file"\n')
        r = self.run_notifierd("postgres", "install", "--config", path, "--print")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("from_file", r.stdout)
        self.assertIn("posts", r.stdout)

    def assert_fails_reaching_postgres(self, *args: str) -> subprocess.CompletedProcess:
        """notifierd against a server nobody listens on: exit status 1 and
        one "postgres: " before the reason."""
        r = self.run_notifierd(*args, "--postgres", "postgresql://nobody@127.0.0.1:1/none", "--tables", "forums")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("notifierd: postgres: ", r.stderr)
        self.assertNotIn("postgres: postgres:", r.stderr)
        return r

    def test_install_against_an_unreachable_server_fails_with_1(self):
        self.assert_fails_reaching_postgres("postgres", "install")

    def test_check_config_hides_the_database_password(self):
        effective = self.check_config("--postgres", "postgresql://app:s3cret-pw@127.0.0.1:1/none",
                                      env={"NOTIFIER_TABLES": "forums,posts"})
        self.assertEqual(effective["postgres"], ('"postgresql://app:(redacted)@127.0.0.1:1/none"', "--postgres"))
        self.assertEqual(effective["tables"], ('["forums", "posts"]', "NOTIFIER_TABLES"))

    def test_install_without_tables_or_database_is_refused(self):
        r = self.run_notifierd("postgres", "install", "--postgres", "postgresql://127.0.0.1:1/none")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("needs --tables", r.stderr)
        r = self.run_notifierd("postgres", "install", "--tables", "forums", "--print")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("needs --postgres", r.stderr)
        r = self.run_notifierd("postgres", "uninstall", "--tables", "forums", "--print")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("postgres uninstall needs --postgres", r.stderr)

    def test_uninstall_needs_only_the_database_and_the_names(self):
        r = self.run_notifierd("postgres", "uninstall", "--postgres", "postgresql://127.0.0.1:1/none",
                               "--postgres-slot", "app_slot", "--print")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("slot_name = 'app_slot'", r.stdout)
        self.assertIn('DROP PUBLICATION IF EXISTS "notifier"', r.stdout)
        r = self.run_notifierd("postgres", "uninstall", "--postgres", "postgresql://127.0.0.1:1/none",
                               "--postgres-slot", "Bad-Slot", "--print")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("slot", r.stderr)

    def test_capture_that_cannot_start_exits_with_1_before_listening(self):
        r = self.assert_fails_reaching_postgres("--listen", "127.0.0.1:0")
        self.assertNotIn("listening", r.stdout)


if __name__ == "__main__":
    unittest.main()
