// Command cao-server is a small stand-in for the CLI Agent Orchestrator
// server: the backend stevedore's examples build, test and ship. It answers
// GET /health with {"status":"healthy"} on $PORT (default 9889) and shuts
// down gracefully on SIGTERM, as ECS expects during a rollout.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const defaultPort = 9889

func main() {
	healthcheck := flag.Bool("healthcheck", false, "probe GET /health on $PORT and exit 0 if healthy (for HEALTHCHECK in images without curl)")
	flag.Parse()

	port, err := portFromEnv(os.Getenv("PORT"))
	if err != nil {
		log.Fatal(err)
	}
	if *healthcheck {
		if err := probe(fmt.Sprintf("http://127.0.0.1:%d/health", port)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("cao-server listening on :%d", port)
	if err := serve(ctx, ln, newHandler(), 20*time.Second); err != nil {
		log.Fatal(err)
	}
	log.Print("cao-server stopped")
}

// portFromEnv parses $PORT, falling back to the default when it is unset.
func portFromEnv(v string) (int, error) {
	if v == "" {
		return defaultPort, nil
	}
	var p int
	if _, err := fmt.Sscanf(v, "%d", &p); err != nil || p < 1 || p > 65535 || fmt.Sprint(p) != v {
		return 0, fmt.Errorf("PORT=%q is not a TCP port number (1-65535)", v)
	}
	return p, nil
}

// serve runs the server until ctx is done, then drains in-flight requests for
// at most grace before returning.
func serve(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func probe(url string) error {
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
