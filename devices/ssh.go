package devices

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// dialOptions tune how a device is reached.
type dialOptions struct {
	acceptNewHostKey bool
	log              io.Writer
}

// sshClient is an SSH connection with its keepalive loop.
type sshClient struct {
	*ssh.Client
	stop func()
	gone chan struct{} // closed when the connection has ended
}

// Close stops the keepalives and closes the connection.
func (c *sshClient) Close() error {
	c.stop()
	return c.Client.Close()
}

// dialSSH connects and authenticates to the profile's board. A refused or
// timed-out connection is transient; a host key or authentication refusal
// is not.
func dialSSH(ctx context.Context, p *Profile, o dialOptions) (*sshClient, error) {
	addr := p.Addr()
	userName := p.User
	if userName == "" {
		userName = localUser()
	}
	d := net.Dialer{Timeout: p.ConnectTimeout, KeepAlive: p.KeepAlive}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, transient(fmt.Errorf("connecting to %s: %w", addr, err))
	}
	auth, closeAuth, err := authMethods(p, userName)
	if err != nil {
		conn.Close()
		return nil, err
	}
	defer closeAuth()
	hostKeys, algos, err := hostKeyCallback(p, addr, o)
	if err != nil {
		conn.Close()
		return nil, err
	}
	cfg := &ssh.ClientConfig{
		User:              userName,
		Auth:              auth,
		HostKeyCallback:   hostKeys,
		HostKeyAlgorithms: algos,
		Timeout:           p.ConnectTimeout,
	}
	// The handshake honours the connect time-out and the context.
	_ = conn.SetDeadline(time.Now().Add(p.ConnectTimeout))
	stopWatch := context.AfterFunc(ctx, func() { conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	stopWatch()
	if err != nil {
		conn.Close()
		var hk *HostKeyError
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.As(err, &hk):
			return nil, hk
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, &AuthError{User: userName, Err: err}
		}
		return nil, transient(fmt.Errorf("SSH handshake with %s: %w", addr, err))
	}
	_ = conn.SetDeadline(time.Time{})
	client := &sshClient{Client: ssh.NewClient(c, chans, reqs), gone: make(chan struct{})}
	client.stop = keepAlive(client.Client, p.KeepAlive)
	go func() {
		client.Client.Wait()
		close(client.gone)
	}()
	return client, nil
}

func localUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

// authMethods gathers the profile's key file, then the keys of ssh-agent
// ($SSH_AUTH_SOCK), then (without a key file) the default keys in ~/.ssh.
func authMethods(p *Profile, userName string) ([]ssh.AuthMethod, func(), error) {
	var signers []ssh.Signer
	closeFn := func() {}
	if p.IdentityFile != "" {
		s, err := loadKey(p.IdentityFile)
		if err != nil {
			return nil, closeFn, &AuthError{User: userName, Err: err}
		}
		signers = append(signers, s)
	}
	var agentSigners func() ([]ssh.Signer, error)
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
		if conn, err := net.DialTimeout("unix", sock, 2*time.Second); err == nil {
			closeFn = func() { conn.Close() }
			agentSigners = agent.NewClient(conn).Signers
		}
	}
	if p.IdentityFile == "" {
		if home, err := os.UserHomeDir(); err == nil {
			for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
				if s, err := loadKey(filepath.Join(home, ".ssh", n)); err == nil {
					signers = append(signers, s)
				}
			}
		}
	}
	if len(signers) == 0 && agentSigners == nil {
		return nil, closeFn, &AuthError{User: userName, Err: errors.New("no key to offer: set identity_file in the profile or load a key into ssh-agent (SSH_AUTH_SOCK)")}
	}
	cb := func() ([]ssh.Signer, error) {
		all := append([]ssh.Signer(nil), signers...)
		if agentSigners != nil {
			if as, err := agentSigners(); err == nil {
				all = append(all, as...)
			}
		}
		return all, nil
	}
	return []ssh.AuthMethod{ssh.PublicKeysCallback(cb)}, closeFn, nil
}

func loadKey(path string) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("identity_file: %w", err)
	}
	s, err := ssh.ParsePrivateKey(b)
	var pm *ssh.PassphraseMissingError
	if errors.As(err, &pm) {
		return nil, fmt.Errorf("identity_file %s is protected by a passphrase: load it into ssh-agent (ssh-add %s) instead", path, path)
	}
	if err != nil {
		return nil, fmt.Errorf("identity_file %s: %w", path, err)
	}
	return s, nil
}

// knownHostsMu serialises appends to known_hosts files.
var knownHostsMu sync.Mutex

// hostKeyCallback verifies the server's key against the profile's
// known_hosts file. An unknown key is refused unless acceptNewHostKey, in
// which case it is appended; a changed key is always refused. It also
// returns the key algorithms known_hosts holds for the host, so that the
// server is asked for a key of a type that can be checked.
func hostKeyCallback(p *Profile, addr string, o dialOptions) (ssh.HostKeyCallback, []string, error) {
	file := p.KnownHosts
	if file == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, nil, fmt.Errorf("known_hosts: %w", err)
		}
		file = filepath.Join(home, ".ssh", "known_hosts")
	}
	check := func(string, net.Addr, ssh.PublicKey) error { return &knownhosts.KeyError{} }
	if _, err := os.Stat(file); err == nil {
		cb, err := knownhosts.New(file)
		if err != nil {
			return nil, nil, fmt.Errorf("known_hosts %s: %w", file, err)
		}
		check = cb
	}
	cb := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := check(hostname, remote, key)
		var ke *knownhosts.KeyError
		if !errors.As(err, &ke) {
			return err
		}
		fp := ssh.FingerprintSHA256(key)
		if len(ke.Want) > 0 {
			return &HostKeyError{Addr: addr, KnownHosts: file, Fingerprint: fp, Changed: true}
		}
		if !o.acceptNewHostKey {
			return &HostKeyError{Addr: addr, KnownHosts: file, Fingerprint: fp}
		}
		if err := appendKnownHost(file, addr, key); err != nil {
			return fmt.Errorf("recording the host key: %w", err)
		}
		if o.log != nil {
			fmt.Fprintf(o.log, "validate: recorded new host key %s for %s in %s\n", fp, addr, file)
		}
		return nil
	}
	return cb, knownAlgorithms(check, addr), nil
}

// knownAlgorithms asks check about a throwaway key to learn which key types
// known_hosts lists for addr.
func knownAlgorithms(check ssh.HostKeyCallback, addr string) []string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil
	}
	probe, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if !errors.As(check(addr, fakeAddr(addr), probe), &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			algos = append(algos, a)
		}
	}
	for _, k := range ke.Want {
		t := k.Key.Type()
		if t == ssh.KeyAlgoRSA {
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
		}
		add(t)
	}
	return algos
}

// fakeAddr is a net.Addr that prints as the dialled address.
type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

func appendKnownHost(file, addr string, key ssh.PublicKey) error {
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, werr := fmt.Fprintln(f, knownhosts.Line([]string{knownhosts.Normalize(addr)}, key))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}

// keepAlive sends keepalive@openssh.com every interval and closes the
// connection when three in a row go unanswered. The returned func stops it.
func keepAlive(c *ssh.Client, interval time.Duration) func() {
	if interval <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var once sync.Once
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		missed := 0
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			answered := make(chan error, 1)
			go func() {
				_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
				answered <- err
			}()
			select {
			case <-done:
				return
			case err := <-answered:
				if err != nil {
					c.Close()
					return
				}
				missed = 0
			case <-time.After(interval):
				missed++
				if missed >= 3 {
					c.Close()
					return
				}
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}
