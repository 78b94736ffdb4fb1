package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// labServerArgs returns the `jupyter` arguments that serve notebookDir with the classic notebook server: the
// command `make lab` runs. As root (containers, CI, many cloud machines) Jupyter refuses to start without
// --allow-root. port 0 and token "" keep Jupyter's defaults (8888 and a generated token).
func labServerArgs(notebookDir string, root bool, port int, token string, browser bool) []string {
	args := []string{"notebook", "--notebook-dir=" + notebookDir}
	if root {
		args = append(args, "--allow-root")
	}
	if port > 0 {
		args = append(args, "--ip=127.0.0.1", fmt.Sprintf("--port=%d", port), "--port-retries=0")
	}
	if token != "" {
		args = append(args, "--NotebookApp.token="+token)
	}
	if !browser {
		args = append(args, "--no-browser")
	}
	return args
}

// runLab replaces this process with the Jupyter server of `make lab` (so Ctrl-C reaches Jupyter directly).
func runLab(notebookDir string, stdout io.Writer) error {
	jupyter, err := exec.LookPath("jupyter-notebook")
	if err != nil {
		return errors.New("jupyter-notebook is not on PATH: run `make setup` (Debian package jupyter-notebook)")
	}
	args := labServerArgs(notebookDir, os.Geteuid() == 0, 0, "", os.Getenv("DISPLAY") != "")
	args[0] = jupyter // "notebook" subcommand → the jupyter-notebook command itself
	fmt.Fprintf(stdout, "nbcheck: starting Jupyter on %s with the GoNB kernel (\"Go (gonb)\"); open the URL with the token that Jupyter prints below. Ctrl-C twice stops it.\n", notebookDir)
	return syscall.Exec(jupyter, args, kernelEnv(os.Environ(), defaultJupyterData()))
}

// labCheck runs the interactive path headless, within timeout: it starts the `make lab` server on a free loopback
// port with a random token, requires the gonb kernel in /api/kernelspecs, starts a GoNB kernel session through the
// REST API, executes one Go cell over the kernel's websocket channel and checks its output, then deletes the
// session and shuts the server down (the server's process group is killed in any case).
func labCheck(ctx context.Context, notebookDir string, timeout time.Duration, log io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, stop, fail, err := startLabServer(ctx, notebookDir, defaultJupyterData(), log)
	if err != nil {
		return err
	}
	defer stop()
	var specs struct {
		Kernelspecs map[string]struct {
			Spec struct {
				DisplayName string            `json:"display_name"`
				Env         map[string]string `json:"env"`
			} `json:"spec"`
		} `json:"kernelspecs"`
	}
	if err := c.get(ctx, "/api/kernelspecs", &specs); err != nil {
		return fail(err)
	}
	gonb, ok := specs.Kernelspecs["gonb"]
	if !ok {
		return fail(fmt.Errorf("no gonb kernel among the server's kernel specs %v: run `make setup`", keys(specs.Kernelspecs)))
	}
	fmt.Fprintf(log, "lab: kernel spec gonb (%q), GOEXPERIMENT=%q\n", gonb.Spec.DisplayName, gonb.Spec.Env["GOEXPERIMENT"])

	var session struct {
		ID     string `json:"id"`
		Kernel struct {
			ID string `json:"id"`
		} `json:"kernel"`
	}
	req := map[string]any{"path": "nbcheck-lab.ipynb", "type": "notebook", "name": "nbcheck-lab.ipynb",
		"kernel": map[string]any{"name": "gonb"}}
	if err := c.post(ctx, "/api/sessions", req, &session); err != nil {
		return fail(err)
	}
	defer c.delete(context.Background(), "/api/sessions/"+session.ID)
	fmt.Fprintf(log, "lab: session %s, kernel %s\n", session.ID, session.Kernel.ID)

	const code = "%%\nfmt.Printf(\"lab check: %d\\n\", 6*7)"
	const want = "lab check: 42"
	out, err := c.execute(ctx, session.Kernel.ID, code)
	if err != nil {
		return fail(err)
	}
	if !strings.Contains(out, want) {
		return fail(fmt.Errorf("the cell printed %q, want a line %q", out, want))
	}
	fmt.Fprintf(log, "lab: cell output %q\n", strings.TrimSpace(out))
	return nil
}

// startLabServer starts the `make lab` server on notebookDir, on a free loopback port with a random token and the
// kernels of dataDir, and waits until it answers. stop shuts it down (the server's process group is killed if it
// lingers); fail wraps an error with the tail of the server's output.
func startLabServer(ctx context.Context, notebookDir, dataDir string, log io.Writer) (c *labClient, stop func(), fail func(error) error, err error) {
	port, err := freePort()
	if err != nil {
		return nil, nil, nil, err
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return nil, nil, nil, err
	}
	token := hex.EncodeToString(tok)
	jupyter, err := exec.LookPath("jupyter-notebook")
	if err != nil {
		return nil, nil, nil, errors.New("jupyter-notebook is not on PATH: run `make setup` (Debian package jupyter-notebook)")
	}
	args := labServerArgs(notebookDir, os.Geteuid() == 0, port, token, false)
	cmd := exec.Command(jupyter, args[1:]...)
	cmd.Env = kernelEnv(os.Environ(), dataDir)
	var serverLog bytes.Buffer
	cmd.Stdout, cmd.Stderr = &serverLog, &serverLog
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, fmt.Errorf("starting jupyter-notebook %s: %w", strings.Join(args[1:], " "), err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	c = &labClient{base: fmt.Sprintf("http://127.0.0.1:%d", port), token: token}
	stop = func() {
		_ = c.post(context.Background(), "/api/shutdown", nil, nil) // best effort; the group kill below follows
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	fail = func(err error) error {
		return fmt.Errorf("%w\njupyter server output:\n%s", err, tail(serverLog.String(), 30))
	}
	if err := c.waitReady(ctx, exited); err != nil {
		stop()
		return nil, nil, nil, fail(err)
	}
	fmt.Fprintf(log, "lab: server up on %s (jupyter-notebook %s)\n", c.base,
		strings.ReplaceAll(strings.Join(args[1:], " "), token, "<token>"))
	return c, stop, fail, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// labClient talks to a Jupyter server's REST API and kernel channels with a token.
type labClient struct {
	base, token string
}

func (c *labClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: %w in %q", method, path, err, raw)
		}
	}
	return nil
}

func (c *labClient) get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, out)
}

func (c *labClient) post(ctx context.Context, path string, body, out any) error {
	return c.do(ctx, http.MethodPost, path, body, out)
}

func (c *labClient) delete(ctx context.Context, path string) error {
	return c.do(ctx, http.MethodDelete, path, nil, nil)
}

// waitReady polls /api/status until the server answers, the server exits or ctx ends.
func (c *labClient) waitReady(ctx context.Context, exited <-chan error) error {
	for {
		if err := c.get(ctx, "/api/status", nil); err == nil {
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("jupyter exited before serving: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("jupyter did not answer on %s: %w", c.base, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// kernelMsg is a Jupyter messaging-protocol message as the notebook server's websocket carries it (JSON).
type kernelMsg struct {
	Header       map[string]any  `json:"header"`
	ParentHeader map[string]any  `json:"parent_header"`
	Metadata     map[string]any  `json:"metadata"`
	Content      json.RawMessage `json:"content"`
	Channel      string          `json:"channel"`
	Buffers      []any           `json:"buffers"`
}

// execute runs code in the kernel over its websocket channel and returns the text it printed (stream and
// text/plain results); a kernel error or an execute_reply with status other than "ok" is an error.
func (c *labClient) execute(ctx context.Context, kernelID, code string) (string, error) {
	wsURL := strings.Replace(c.base, "http://", "ws://", 1) + "/api/kernels/" + kernelID + "/channels?token=" + c.token
	conn, _, err := websocket.Dial(ctx, wsURL, nil)
	if err != nil {
		return "", fmt.Errorf("opening the kernel channel: %w", err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(16 << 20)
	msgID := newID()
	content, _ := json.Marshal(map[string]any{"code": code, "silent": false, "store_history": true,
		"user_expressions": map[string]any{}, "allow_stdin": false, "stop_on_error": true})
	req := kernelMsg{
		Header: map[string]any{"msg_id": msgID, "username": "nbcheck", "session": newID(), "msg_type": "execute_request",
			"version": "5.3", "date": time.Now().UTC().Format(time.RFC3339)},
		ParentHeader: map[string]any{}, Metadata: map[string]any{}, Content: content, Channel: "shell", Buffers: []any{},
	}
	raw, _ := json.Marshal(req)
	if err := conn.Write(ctx, websocket.MessageText, raw); err != nil {
		return "", fmt.Errorf("sending the cell: %w", err)
	}
	var out strings.Builder
	replied, idle := false, false
	for !(replied && idle) {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return out.String(), fmt.Errorf("reading the kernel channel (output so far %q): %w", out.String(), err)
		}
		var m kernelMsg
		if err := json.Unmarshal(data, &m); err != nil {
			continue // binary or foreign frames
		}
		if m.ParentHeader["msg_id"] != msgID {
			continue
		}
		var body struct {
			Name   string            `json:"name"`
			Text   string            `json:"text"`
			Data   map[string]string `json:"data"`
			Status string            `json:"status"`
			State  string            `json:"execution_state"`
			EName  string            `json:"ename"`
			EValue string            `json:"evalue"`
		}
		_ = json.Unmarshal(m.Content, &body)
		switch m.Header["msg_type"] {
		case "stream":
			out.WriteString(body.Text)
		case "execute_result", "display_data":
			out.WriteString(body.Data["text/plain"])
		case "error":
			return out.String(), fmt.Errorf("the cell failed: %s: %s", body.EName, body.EValue)
		case "execute_reply":
			if body.Status != "ok" {
				return out.String(), fmt.Errorf("execute_reply status %q (output %q)", body.Status, out.String())
			}
			replied = true
		case "status":
			idle = idle || body.State == "idle"
		}
	}
	return out.String(), nil
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// cellTimes are the client-side seconds of each code cell of a notebook, run twice in one kernel.
type cellTimes struct {
	Path string `json:"path"`
	// FirstRun holds the first pass (stages computed or loaded, the Go build cache warmed); CellSeconds the second,
	// every stage cached: what an interactive user waits when re-running a cell.
	FirstRun    []float64 `json:"first_run_seconds"`
	CellSeconds []float64 `json:"cell_seconds"`
	// Load is the load average before and after the second pass.
	Load string `json:"load"`
}

// timeCells runs the code cells of each notebook twice, in order, through a Jupyter server and a GoNB kernel of
// dataDir (the kernel the harness registers), timing each cell from the client side (the kernel reports times to
// the second only).
func timeCells(ctx context.Context, paths []string, dataDir string, log io.Writer) ([]cellTimes, error) {
	var out []cellTimes
	for _, path := range paths {
		nb, err := readNotebook(path)
		if err != nil {
			return nil, err
		}
		var cells []string
		for _, c := range nb.Cells {
			if c.CellType == "code" {
				cells = append(cells, joinText(c.Source))
			}
		}
		t, err := timeNotebook(ctx, path, cells, dataDir, log)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, t)
	}
	return out, nil
}

func timeNotebook(ctx context.Context, path string, cells []string, dataDir string, log io.Writer) (cellTimes, error) {
	t := cellTimes{Path: path}
	c, stop, fail, err := startLabServer(ctx, filepath.Dir(path), dataDir, log)
	if err != nil {
		return t, err
	}
	defer stop()
	var session struct {
		ID     string `json:"id"`
		Kernel struct {
			ID string `json:"id"`
		} `json:"kernel"`
	}
	name := filepath.Base(path)
	req := map[string]any{"path": name, "type": "notebook", "name": name, "kernel": map[string]any{"name": "gonb"}}
	if err := c.post(ctx, "/api/sessions", req, &session); err != nil {
		return t, fail(err)
	}
	defer c.delete(context.Background(), "/api/sessions/"+session.ID)
	for pass := range 2 {
		if pass == 1 {
			t.Load = loadAvg()
		}
		for i, code := range cells {
			start := time.Now()
			if _, err := c.execute(ctx, session.Kernel.ID, code); err != nil {
				return t, fail(fmt.Errorf("cell %d (pass %d): %w", i+1, pass+1, err))
			}
			sec := time.Since(start).Seconds()
			if pass == 0 {
				t.FirstRun = append(t.FirstRun, sec)
			} else {
				t.CellSeconds = append(t.CellSeconds, sec)
			}
		}
	}
	t.Load += " → " + loadAvg()
	fmt.Fprintf(log, "times %s: %v\n", path, t.CellSeconds)
	return t, nil
}

// loadAvg is the first three fields of /proc/loadavg, or "unknown".
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
