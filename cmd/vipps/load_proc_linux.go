package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// setChildAttr makes the child die with this process, should it die
// without stopping its children.
func setChildAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// terminate asks p to stop as Ctrl-C or a service manager would.
func terminate(p *os.Process) { p.Signal(syscall.SIGTERM) }

// cpuTicks returns the CPU time, user and system, that the processes have
// used so far, in clock ticks (see clockTicks): the utime and stime fields
// of /proc/<pid>/stat, which count every thread of the process.
func cpuTicks(pids []int) (int64, error) {
	var sum int64
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return 0, err
		}
		// The command name (field 2) is in parentheses and may hold
		// spaces; the fields after it start with the state (field 3).
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 13 {
			return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
		}
		for _, v := range f[11:13] { // utime (14) and stime (15)
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
			}
			sum += n
		}
	}
	return sum, nil
}

// cpuTicksEach returns the CPU time of each of the processes that can
// still be read, by pid (see cpuTicks); a process that has exited is left
// out.
func cpuTicksEach(pids []int) map[int]int64 {
	out := make(map[int]int64, len(pids))
	for _, pid := range pids {
		if n, err := cpuTicks([]int{pid}); err == nil {
			out[pid] = n
		}
	}
	return out
}

// processesNamed returns the processes whose command name (comm) is name,
// such as every process of a PostgreSQL server ("postgres").
func processesNamed(name string) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/comm"); err == nil && strings.TrimSpace(string(b)) == name {
			pids = append(pids, pid)
		}
	}
	return pids
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat's
// times: sysconf(_SC_CLK_TCK), which the C library reads from the
// AT_CLKTCK entry of the auxiliary vector, as this does from
// /proc/self/auxv. It is 100 wherever that cannot be read (the value on
// every common Linux).
var clockTicks = sync.OnceValue(func() int64 {
	const atClkTck = 17
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 100
	}
	word := int(unsafe.Sizeof(uintptr(0)))
	read := func(p []byte) uint64 {
		if word == 4 {
			return uint64(binary.NativeEndian.Uint32(p))
		}
		return binary.NativeEndian.Uint64(p)
	}
	for i := 0; i+2*word <= len(b); i += 2 * word {
		if k := read(b[i:]); k == atClkTck {
			if v := read(b[i+word:]); v > 0 {
				return int64(v)
			}
		} else if k == 0 {
			break
		}
	}
	return 100
})
