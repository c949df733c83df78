package wait

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSleepEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled context must end the sleep at once, got %v", err)
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("a short sleep must succeed, got %v", err)
	}
	if err := Sleep(context.Background(), 0); err != nil {
		t.Fatalf("a zero sleep must succeed, got %v", err)
	}
}
