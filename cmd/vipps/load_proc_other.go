//go:build !linux

package main

import (
	"errors"
	"os"
	"os/exec"
)

// setChildAttr does nothing here: only Linux kills a child with its parent.
func setChildAttr(cmd *exec.Cmd) {}

// terminate asks p to stop as Ctrl-C would, where there are signals.
func terminate(p *os.Process) {
	if err := p.Signal(os.Interrupt); err != nil {
		p.Kill()
	}
}

// cpuTicks is measured from /proc, on Linux only.
func cpuTicks(pids []int) (int64, error) {
	if len(pids) == 0 {
		return 0, nil
	}
	return 0, errors.New("CPU time is measured on Linux only")
}

// cpuTicksEach is measured from /proc, on Linux only.
func cpuTicksEach(pids []int) map[int]int64 { return nil }

// processesNamed reads /proc, on Linux only.
func processesNamed(name string) []int { return nil }

// clockTicks is Linux's USER_HZ; unused elsewhere.
func clockTicks() int64 { return 100 }
