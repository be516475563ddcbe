package litert

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// Starting a bridge costs a process start and a WASM compile (150-250 ms).
// A closed session therefore hands its process, with the model unloaded,
// to a small pool that the next Open with the same Node, node_modules and
// script takes from. Idle processes quit after idleTimeout; a process that
// failed, timed out or was killed is never pooled.
const (
	maxIdle     = 2
	idleTimeout = 30 * time.Second
	unloadLimit = 5 * time.Second
)

// poolKey identifies interchangeable bridges.
type poolKey struct{ node, nodeModules, script string }

type idleProc struct {
	p     *proc
	key   poolKey
	timer *time.Timer
}

var pool struct {
	mu   sync.Mutex
	idle []*idleProc
}

// takeIdle returns a pooled live bridge for key, or nil.
func takeIdle(key poolKey) *proc {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	for i := len(pool.idle) - 1; i >= 0; i-- {
		ip := pool.idle[i]
		if ip.key != key {
			continue
		}
		pool.idle = append(pool.idle[:i], pool.idle[i+1:]...)
		if !ip.timer.Stop() || ip.p.dead() {
			// Its idle time-out is closing it, or it died: skip it.
			continue
		}
		return ip.p
	}
	return nil
}

var unloadRequest = json.RawMessage(`{"op":"unload"}`)

// release unloads the bridge's model and pools the process, or closes it
// when it cannot be reused or the pool is full.
func release(p *proc) {
	if p.dead() {
		p.close()
		return
	}
	if _, err := p.call(context.Background(), unloadLimit, unloadRequest, nil, nil); err != nil {
		p.close()
		return
	}
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if len(pool.idle) >= maxIdle {
		go p.close()
		return
	}
	ip := &idleProc{p: p, key: p.key}
	ip.timer = time.AfterFunc(idleTimeout, func() {
		pool.mu.Lock()
		for i, x := range pool.idle {
			if x == ip {
				pool.idle = append(pool.idle[:i], pool.idle[i+1:]...)
				break
			}
		}
		pool.mu.Unlock()
		p.close()
	})
	pool.idle = append(pool.idle, ip)
}
