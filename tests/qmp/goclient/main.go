// qmp-go: rivet's QMP server driven by an independent QMP client library,
// DigitalOcean's go-qemu as Debian packages it
// (golang-github-digitalocean-go-qemu-dev): its qmp package for the
// connection (greeting, negotiation, commands, events), its qemu package
// (Domain) and its generated raw package for typed commands.  Built by
// scripts/setup.sh (stage qmp-go) for riscv64, run in the emulated host by
// tests/e2e/host/qmp-go.sh.
//
// Prints "GOQMP-OK CHECK" or "GOQMP-FAIL CHECK: WHY" per check and
// "GOQMP-ALL-OK" at the end when every check held; exit status 0 then,
// 1 otherwise (2: bad usage).
//
//	qmp-go -socket PATH [-end full|quit] [-name NAME] [-uuid UUID]
//	       [-cpus N] [-disk FILE] [-pid PID] [-console FILE]
//
// -end full (default): the VM was started with --paused, the guest test
// "powerbutton" and one read-only disk: prelaunch, cont, queries, stop and
// cont, errors, system_reset (the guest boots again: a second
// RIVET-POWERBUTTON-READY in the -console file), system_powerdown (the
// guest powers off: SHUTDOWN guest-shutdown).  -end quit: a running VM,
// query-status and quit.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/digitalocean/go-qemu/qemu"
	"github.com/digitalocean/go-qemu/qmp"
	"github.com/digitalocean/go-qemu/qmp/raw"
)

var fails int

func ok(name string) { fmt.Printf("GOQMP-OK %s\n", name) }

func bad(name, format string, a ...interface{}) {
	fmt.Printf("GOQMP-FAIL %s: %s\n", name, fmt.Sprintf(format, a...))
	fails++
}

// check reports name as passed when err is nil and cond holds.
func check(name string, err error, cond bool, format string, a ...interface{}) bool {
	switch {
	case err != nil:
		bad(name, "error: %v", err)
	case !cond:
		bad(name, format, a...)
	default:
		ok(name)
		return true
	}
	return false
}

// events keeps every event the library delivered, in order; wait hands
// them out one at a time past a cursor.
type events struct {
	mu   sync.Mutex
	all  []qmp.Event
	next int
	done bool // the library closed the stream (the server hung up)
}

func (e *events) collect(c <-chan qmp.Event) {
	for ev := range c {
		e.mu.Lock()
		e.all = append(e.all, ev)
		e.mu.Unlock()
	}
	e.mu.Lock()
	e.done = true
	e.mu.Unlock()
}

// wait returns the next event named name (skipping others), or an error
// after d.  The library delivers events apart from command replies, so an
// event sent before a reply may still be on its way when Run returns.
func (e *events) wait(name string, d time.Duration) (qmp.Event, error) {
	end := time.Now().Add(d)
	for {
		e.mu.Lock()
		for e.next < len(e.all) {
			ev := e.all[e.next]
			e.next++
			if ev.Event == name {
				e.mu.Unlock()
				return ev, nil
			}
		}
		closed := e.done
		e.mu.Unlock()
		if closed {
			return qmp.Event{}, fmt.Errorf("no %s event before the server hung up", name)
		}
		if time.Now().After(end) {
			return qmp.Event{}, fmt.Errorf("no %s event within %v", name, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// status checks that query-status, through qemu.Domain, says want.
func status(d *qemu.Domain, name string, want qemu.Status) {
	s, err := d.Status()
	check(name, err, s == want, "status %v, want %v", s, want)
}

// event waits for the event and checks its timestamp and data.
func event(ev *events, name, what string, data map[string]interface{}) {
	e, err := ev.wait(name, 30*time.Second)
	if err != nil {
		bad(what, "%v", err)
		return
	}
	if e.Timestamp.Seconds <= 0 || e.Timestamp.Microseconds < 0 || e.Timestamp.Microseconds >= 1000000 {
		bad(what, "bad timestamp %+v", e.Timestamp)
		return
	}
	for k, v := range data {
		if e.Data[k] != v {
			bad(what, "data %v, want %s=%v", e.Data, k, v)
			return
		}
	}
	ok(what)
}

// countIn returns how many lines of file contain s.
func countIn(file, s string) int {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), s)
}

// waitConsole waits until file has n lines with marker.
func waitConsole(file, marker string, n int, d time.Duration) error {
	end := time.Now().Add(d)
	for countIn(file, marker) < n {
		if time.Now().After(end) {
			return fmt.Errorf("%d of %d %q in %s after %v", countIn(file, marker), n, marker, file, d)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil
}

// vmThread tells whether tid is a thread of a child of rivet (pid): a vCPU
// thread of the current VM process.
func vmThread(tid, pid int) bool {
	field := func(p, key string) string {
		b, err := os.ReadFile("/proc/" + p + "/status")
		if err != nil {
			return ""
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, key+":") {
				return strings.TrimSpace(l[len(key)+1:])
			}
		}
		return ""
	}
	tgid := field(strconv.Itoa(tid), "Tgid")
	return tgid != "" && field(tgid, "PPid") == strconv.Itoa(pid)
}

func main() {
	sock := flag.String("socket", "", "QMP socket")
	end := flag.String("end", "full", "full: every check, ending with system_powerdown; quit: status and quit")
	name := flag.String("name", "", "expected --name")
	uuid := flag.String("uuid", "", "expected --uuid (lower case)")
	cpus := flag.Int("cpus", 0, "expected vCPUs")
	disk := flag.String("disk", "", "expected file of the read-only disk0")
	pid := flag.Int("pid", 0, "rivet's process id (vCPU thread ids are checked against it)")
	console := flag.String("console", "", "the guest's console output (a file)")
	limit := flag.Duration("timeout", 300*time.Second, "give up after this long")
	flag.Parse()
	if *sock == "" || (*end != "full" && *end != "quit") ||
		(*end == "full" && (*console == "" || *cpus == 0 || *disk == "")) {
		fmt.Fprintln(os.Stderr, "usage: qmp-go -socket PATH [-end full|quit] [-name NAME] [-uuid UUID] [-cpus N] [-disk FILE] [-pid PID] [-console FILE]")
		os.Exit(2)
	}
	// A library call that never returns is a failure, not a hang.
	time.AfterFunc(*limit, func() {
		bad("time limit", "not done after %v", *limit)
		os.Exit(1)
	})

	// ---- connect: the library reads and checks the greeting, negotiates ----
	mon, err := qmp.NewSocketMonitor("unix", *sock, 5*time.Second)
	if !check("dial", err, true, "") {
		os.Exit(1)
	}
	if !check("connect (greeting, qmp_capabilities)", mon.Connect(), true, "") {
		os.Exit(1)
	}
	v := mon.Version
	check("greeting version", nil, v != nil && v.QEMU.Major == 9 && strings.HasPrefix(v.Package, "rivet "),
		"version %+v", v)
	check("greeting capabilities", nil, len(mon.Capabilities) == 0, "capabilities %v", mon.Capabilities)

	d, err := qemu.NewDomain(mon, *name)
	if !check("qemu.NewDomain", err, true, "") {
		os.Exit(1)
	}
	evc, evdone, err := d.Events()
	if !check("events", err, true, "") {
		os.Exit(1)
	}
	ev := &events{}
	go ev.collect(evc)
	rm := raw.NewMonitor(mon)

	if *end == "quit" {
		status(d, "status running", qemu.StatusRunning)
		err = rm.Quit()
		check("quit", err, true, "")
		event(ev, "SHUTDOWN", "SHUTDOWN host-qmp-quit",
			map[string]interface{}{"guest": false, "reason": "host-qmp-quit"})
		finish(d, evdone)
	}

	// ---- prelaunch, cont ----
	status(d, "status prelaunch", qemu.StatusPreLaunch)
	check("cont (raw)", rm.Cont(), true, "")
	event(ev, "RESUME", "RESUME after cont", nil)
	status(d, "status running", qemu.StatusRunning)

	// ---- queries ----
	ver, err := d.Version()
	check("query-version (Domain.Version)", err, ver == "9.2.0", "version %q", ver)
	pkg, err := d.PackageVersion()
	check("query-version package (raw)", err, strings.HasPrefix(pkg, "rivet "), "package %q", pkg)
	n, err := rm.QueryName()
	check("query-name (raw)", err, n.Name != nil && *n.Name == *name, "name %v", n.Name)
	u, err := rm.QueryUUID()
	check("query-uuid (raw)", err, *uuid == "" || u.UUID == *uuid, "UUID %q, want %q", u.UUID, *uuid)
	t, err := rm.QueryTarget()
	check("query-target (raw)", err, t.Arch == "riscv64", "arch %q", t.Arch)
	k, err := rm.QueryKVM()
	check("query-kvm (raw)", err, k.Enabled && k.Present, "%+v", k)
	cmds, err := d.Commands()
	check("query-commands (Domain.Commands)", err, len(cmds) > 5, "commands %v", cmds)
	for _, c := range []string{"query-cpus-fast", "system_powerdown", "quit"} {
		s, err := d.Supported(c)
		check("Domain.Supported "+c, err, s, "not in %v", cmds)
	}
	s, err := d.Supported("query-cpus")
	check("Domain.Supported query-cpus (QEMU 6 removed it)", err, !s, "listed")

	// query-cpus-fast: the library has no helper (Domain.CPUs sends the
	// removed query-cpus); its Run and our own decoding.
	out, err := d.Run(qmp.Command{Execute: "query-cpus-fast"})
	var cf struct {
		Return []struct {
			CPUIndex int    `json:"cpu-index"`
			ThreadID int    `json:"thread-id"`
			QOMPath  string `json:"qom-path"`
			Target   string `json:"target"`
			Props    struct {
				CoreID *int `json:"core-id"`
			} `json:"props"`
		} `json:"return"`
	}
	if err == nil {
		err = json.Unmarshal(out, &cf)
	}
	if check("query-cpus-fast: one per vCPU", err, len(cf.Return) == *cpus, "%d entries, want %d: %s", len(cf.Return), *cpus, out) {
		for i, c := range cf.Return {
			what := fmt.Sprintf("query-cpus-fast cpu %d", i)
			if c.CPUIndex != i || c.Target != "riscv64" || c.Props.CoreID == nil || *c.Props.CoreID != i || c.QOMPath == "" {
				bad(what, "%+v", c)
			} else if *pid != 0 && !vmThread(c.ThreadID, *pid) {
				bad(what, "thread-id %d is no thread of a child of rivet (%d)", c.ThreadID, *pid)
			} else {
				ok(what)
			}
		}
	}

	// query-block through both of the library's decodings.
	bd, err := d.BlockDevice("disk0")
	check("query-block (Domain.BlockDevice disk0)", err,
		bd.Inserted.File == *disk && bd.Inserted.ReadOnly && bd.Inserted.Driver == "raw" &&
			bd.Inserted.Image.VirtualSize == 8<<20 && bd.Inserted.Image.Format == "raw",
		"%+v", bd)
	rb, err := rm.QueryBlock()
	check("query-block (raw)", err, len(rb) == 1 && rb[0].Device == "disk0" && rb[0].Inserted != nil &&
		rb[0].Inserted.File == *disk && rb[0].Inserted.Ro, "%+v", rb)

	// ---- errors: the library turns QMP's error into a Go error ----
	// go-qemu keeps QMP's "desc" only (its response.Err drops "class").
	_, err = d.Run(qmp.Command{Execute: "no-such-command"})
	check("unknown command is an error", nil, err != nil && err.Error() == "The command no-such-command has not been found",
		"error %v", err)
	_, err = d.CPUs()
	check("Domain.CPUs (query-cpus) is an error", nil, err != nil && strings.Contains(err.Error(), "query-cpus has not been found"),
		"error %v", err)
	_, err = d.Run(qmp.Command{Execute: "stop", Args: map[string]interface{}{"force": true}})
	check("unknown argument is an error", nil, err != nil && err.Error() == "Parameter 'force' is unexpected",
		"error %v", err)
	status(d, "still running after the errors", qemu.StatusRunning)

	// ---- stop, cont ----
	check("stop (raw)", rm.Stop(), true, "")
	event(ev, "STOP", "STOP after stop", nil)
	status(d, "status paused", qemu.StatusPaused)
	check("cont (raw) after stop", rm.Cont(), true, "")
	event(ev, "RESUME", "RESUME after the second cont", nil)
	status(d, "status running again", qemu.StatusRunning)

	// ---- system_reset: the guest boots again ----
	if err := waitConsole(*console, "RIVET-POWERBUTTON-READY", 1, 120*time.Second); err != nil {
		bad("guest up", "%v", err)
	}
	check("system_reset (Domain.SystemReset)", d.SystemReset(), true, "")
	event(ev, "RESET", "RESET host-qmp-system-reset",
		map[string]interface{}{"guest": false, "reason": "host-qmp-system-reset"})
	err = waitConsole(*console, "RIVET-POWERBUTTON-READY", 2, 120*time.Second)
	check("guest booted again after system_reset", err, true, "")
	status(d, "running after the reset", qemu.StatusRunning)

	// ---- system_powerdown: the guest sees the button and powers off ----
	check("system_powerdown (Domain.SystemPowerdown)", d.SystemPowerdown(), true, "")
	event(ev, "POWERDOWN", "POWERDOWN", nil)
	event(ev, "SHUTDOWN", "SHUTDOWN guest-shutdown",
		map[string]interface{}{"guest": true, "reason": "guest-shutdown"})
	finish(d, evdone)
}

// finish waits for the server to hang up (rivet ends after SHUTDOWN),
// closes the domain and exits with the verdict.
func finish(d *qemu.Domain, evdone chan struct{}) {
	// The event stream closes once the server hangs up.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := d.Status(); err != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	evdone <- struct{}{}
	d.Close()
	if fails == 0 {
		fmt.Println("GOQMP-ALL-OK")
		os.Exit(0)
	}
	os.Exit(1)
}
