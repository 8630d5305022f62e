// SPDX-License-Identifier: MIT
// Command go-melody is a benchmark peer: a broadcast WebSocket server written
// the way melody (github.com/olahol/melody) structures one on top of
// gorilla/websocket. A single hub goroutine owns the session set and is fed
// through register/unregister/broadcast channels; every session has a bounded
// outbound queue drained by its own writer goroutine, and a reader goroutine
// that only handles control frames. A broadcast never blocks the hub: when a
// session's queue is full the message is dropped for that session and counted.
//
// Endpoints:
//
//	GET  /ws       WebSocket; every notification arrives as one text message
//	POST /publish  {"collection","action"[,"id"][,"data"]} -> 202 {"ok":true}
//	GET  /stats    {"clients":N,"published":N,"dropped":N}
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// Session settings, same values as melody's defaults.
const (
	writeWait         = 10 * time.Second
	pongWait          = 60 * time.Second
	pingPeriod        = pongWait * 9 / 10 // 54s
	maxMessageSize    = 512
	messageBufferSize = 256

	maxPublishBytes = 1 << 20
	shutdownTimeout = 5 * time.Second
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:    1024,
	WriteBufferSize:   1024,
	EnableCompression: false,
	CheckOrigin:       func(*http.Request) bool { return true },
}

// session is one WebSocket client.
type session struct {
	conn   *websocket.Conn
	output chan []byte // closed by the hub only
	hub    *hub
}

// hub owns the set of sessions. Only the run goroutine touches the map and
// closes session output channels, so sends to output never race with close.
type hub struct {
	sessions   map[*session]struct{}
	register   chan *session
	unregister chan *session
	broadcast  chan []byte
	exit       chan struct{}
	done       chan struct{}
	writers    sync.WaitGroup

	clients   atomic.Int64
	published atomic.Int64
	dropped   atomic.Int64
}

func newHub() *hub {
	return &hub{
		sessions:   make(map[*session]struct{}),
		register:   make(chan *session),
		unregister: make(chan *session),
		broadcast:  make(chan []byte),
		exit:       make(chan struct{}),
		done:       make(chan struct{}),
	}
}

func (h *hub) run() {
	defer close(h.done)
	for {
		select {
		case s := <-h.register:
			h.sessions[s] = struct{}{}
			h.clients.Store(int64(len(h.sessions)))

		case s := <-h.unregister:
			if _, ok := h.sessions[s]; ok {
				delete(h.sessions, s)
				close(s.output)
				h.clients.Store(int64(len(h.sessions)))
			}

		case msg := <-h.broadcast:
			for s := range h.sessions {
				select {
				case s.output <- msg:
				default:
					// Queue full: drop for this session, as melody does.
					h.dropped.Add(1)
				}
			}

		case <-h.exit:
			for s := range h.sessions {
				delete(h.sessions, s)
				close(s.output)
			}
			h.clients.Store(0)
			return
		}
	}
}

// publish hands msg to the hub. It returns false once the hub has stopped.
func (h *hub) publish(msg []byte) bool {
	select {
	case h.broadcast <- msg:
		h.published.Add(1)
		return true
	case <-h.done:
		return false
	}
}

// close stops the hub, which closes every session's queue; each writer then
// sends a close frame. Waits up to timeout for the writers to finish.
func (h *hub) close(timeout time.Duration) {
	close(h.exit)
	<-h.done
	finished := make(chan struct{})
	go func() {
		h.writers.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(timeout):
	}
}

func (h *hub) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has already written an HTTP error
	}
	s := &session{
		conn:   conn,
		output: make(chan []byte, messageBufferSize),
		hub:    h,
	}
	select {
	case h.register <- s:
	case <-h.done:
		conn.Close()
		return
	}
	h.writers.Add(1)
	go s.writePump()
	s.readPump()
}

// readPump consumes incoming frames so that pong and close control frames are
// processed; application messages from clients are ignored.
func (s *session) readPump() {
	defer func() {
		select {
		case s.hub.unregister <- s:
		case <-s.hub.done:
		}
		s.conn.Close()
	}()
	s.conn.SetReadLimit(maxMessageSize)
	s.conn.SetReadDeadline(time.Now().Add(pongWait))
	s.conn.SetPongHandler(func(string) error {
		return s.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		if _, _, err := s.conn.NextReader(); err != nil {
			return
		}
	}
}

// writePump is the only goroutine writing to the connection.
func (s *session) writePump() {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		s.conn.Close()
		s.hub.writers.Done()
	}()
	for {
		select {
		case msg, ok := <-s.output:
			s.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				s.conn.WriteMessage(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseGoingAway, ""))
				return
			}
			if err := s.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
		case <-ticker.C:
			s.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := s.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

// notification is the published document. Data and ID are carried as raw
// JSON: they are validated by the decoder and compacted by json.Marshal, but
// not materialised as Go maps.
type notification struct {
	Collection string          `json:"collection"`
	Action     string          `json:"action"`
	ID         json.RawMessage `json:"id,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v interface{}) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

func (h *hub) servePublish(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, apiError{"method_not_allowed", "use POST"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPublishBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeJSON(w, http.StatusRequestEntityTooLarge, apiError{"payload_too_large", err.Error()})
			return
		}
		writeJSON(w, http.StatusBadRequest, apiError{"bad_request", err.Error()})
		return
	}
	var n notification
	if err := json.Unmarshal(body, &n); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			writeJSON(w, http.StatusBadRequest, apiError{"invalid_notification", err.Error()})
			return
		}
		writeJSON(w, http.StatusBadRequest, apiError{"invalid_json", err.Error()})
		return
	}
	if n.Collection == "" || n.Action == "" {
		writeJSON(w, http.StatusBadRequest,
			apiError{"invalid_notification", "collection and action are required strings"})
		return
	}
	msg, err := json.Marshal(&n)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{"invalid_notification", err.Error()})
		return
	}
	if !h.publish(msg) {
		writeJSON(w, http.StatusServiceUnavailable, apiError{"unavailable", "shutting down"})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]bool{"ok": true})
}

func (h *hub) serveStats(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, apiError{"method_not_allowed", "use GET"})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Clients   int64 `json:"clients"`
		Published int64 `json:"published"`
		Dropped   int64 `json:"dropped"`
	}{h.clients.Load(), h.published.Load(), h.dropped.Load()})
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "address to listen on (HOST:PORT)")
	flag.Parse()
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.SetPrefix("go-melody: ")

	h := newHub()
	go h.run()

	mux := http.NewServeMux()
	mux.HandleFunc("/ws", h.serveWS)
	mux.HandleFunc("/publish", h.servePublish)
	mux.HandleFunc("/stats", h.serveStats)

	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	fmt.Fprintf(os.Stdout, "listening on %s\n", ln.Addr())
	os.Stdout.Sync()

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		log.Fatal(err)
	}
	stop()

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// Shutdown stops accepting and waits for in-flight HTTP requests; it does
	// not track upgraded connections, which the hub closes afterwards.
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Printf("shutdown: %v", err)
	}
	h.close(2 * time.Second)
}
