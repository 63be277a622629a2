package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// childStartTimeout bounds how long a child process may take to listen.
const childStartTimeout = time.Minute

// childStopGrace is how long a child may take to stop after SIGTERM
// before it is killed.
const childStopGrace = 20 * time.Second

// child is a process vipps load started: vipps sim, vipps serve or the
// bare handler. Its stdout and stderr go to a log file in the run's
// directory.
type child struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	url     string // where it listens, once known

	done    chan struct{} // closed when it has exited
	urlSeen chan string   // the first URL it printed on stdout

	mu      sync.Mutex
	stopped bool  // stop was called
	waitErr error // how it exited, once done
}

// urlRE finds the URL a child prints when it listens.
var urlRE = regexp.MustCompile(`https?://[^\s]+`)

// startChild starts l.bin with args and the environment env (see
// childEnv), logging to <dir>/<name>.log. It is stopped by l.close.
func (l *loadRun) startChild(name string, env []string, args ...string) (*child, error) {
	c := &child{name: name, logPath: filepath.Join(l.dir, name+".log"), done: make(chan struct{}), urlSeen: make(chan string, 1)}
	logf, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c.cmd = exec.Command(l.bin, args...)
	c.cmd.Env = env
	c.cmd.Stderr = logf
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	setChildAttr(c.cmd)
	if err := c.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, l.bin, err)
	}
	l.children = append(l.children, c)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		seen := false
		for sc.Scan() {
			line := sc.Text()
			logf.WriteString(line + "\n")
			if u := urlRE.FindString(line); u != "" && !seen {
				seen = true
				c.urlSeen <- u
			}
		}
		io.Copy(logf, stdout) // a line too long for the scanner
		err := c.cmd.Wait()
		logf.Close()
		c.mu.Lock()
		c.waitErr = err
		c.mu.Unlock()
		close(c.done)
	}()
	return c, nil
}

// waitURL waits for the first URL the child prints on stdout (its
// listening address) and sets c.url.
func (c *child) waitURL(ctx context.Context) error {
	t := time.NewTimer(childStartTimeout)
	defer t.Stop()
	select {
	case u := <-c.urlSeen:
		c.url = strings.TrimRight(u, "/.,")
		return nil
	case <-c.done:
		return fmt.Errorf("%s exited at start (%s):\n%s", c.name, c.status(), tailFile(c.logPath, 20))
	case <-t.C:
		return fmt.Errorf("%s printed no URL in %v:\n%s", c.name, childStartTimeout, tailFile(c.logPath, 20))
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitReady polls url until it answers 200, the child exits, or
// childStartTimeout passes.
func (c *child) waitReady(ctx context.Context, url string) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(childStartTimeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s answered %s", url, resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %w\n%s", c.name, childStartTimeout, err, tailFile(c.logPath, 20))
		}
		select {
		case <-c.done:
			return fmt.Errorf("%s exited at start (%s):\n%s", c.name, c.status(), tailFile(c.logPath, 20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// pid is the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// status says whether the child runs or how it exited.
func (c *child) status() string {
	select {
	case <-c.done:
	default:
		return "running"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waitErr == nil {
		return "exited"
	}
	return "exited: " + c.waitErr.Error()
}

// stop asks the child to stop (SIGTERM), waits up to childStopGrace, and
// then kills it.
func (c *child) stop() error {
	c.mu.Lock()
	already := c.stopped
	c.stopped = true
	c.mu.Unlock()
	if already {
		return nil
	}
	select {
	case <-c.done:
		// It exited by itself: whatever needed it failed and said so,
		// with its log (see loadRun.tails).
		return nil
	default:
	}
	terminate(c.cmd.Process)
	select {
	case <-c.done:
		return nil
	case <-time.After(childStopGrace):
	}
	c.cmd.Process.Kill()
	<-c.done
	return fmt.Errorf("%s did not stop within %v of SIGTERM and was killed:\n%s", c.name, childStopGrace, tailFile(c.logPath, 20))
}

// childEnv is this process's environment without any VIPPS_ variable, so
// that no setting of the person running vipps load reaches the processes
// it starts, plus kv.
func childEnv(kv ...string) []string {
	var env []string
	for _, s := range os.Environ() {
		if !strings.HasPrefix(s, "VIPPS_") {
			env = append(env, s)
		}
	}
	return append(env, kv...)
}

// tailFile returns the last n lines of the file at path.
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	defer f.Close()
	const most = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > most {
		f.Seek(st.Size()-most, io.SeekStart)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if len(lines) == 1 && len(lines[0]) == 0 {
		return "(empty)"
	}
	return string(bytes.Join(lines, []byte("\n")))
}
