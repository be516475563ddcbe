package devices

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/edgeval/edgeval/runtime"
)

// Facts describe the machine a model ran on. Fields the machine does not
// expose are left empty.
type Facts struct {
	Hostname string `json:"hostname,omitempty"`
	// OS and Arch as uname reports them ("Linux", "aarch64").
	OS   string `json:"os"`
	Arch string `json:"arch"`
	// GoArch is the agent binary's GOOS/GOARCH.
	GoArch string `json:"goarch"`
	Kernel string `json:"kernel,omitempty"`
	// CPUModel names the CPU: x86's model name, or on ARM the cores from
	// their MIDR part numbers ("ARM Cortex-A72").
	CPUModel string `json:"cpu_model,omitempty"`
	// Board is the machine's name from the device tree or DMI ("Raspberry
	// Pi 4 Model B Rev 1.4").
	Board string `json:"board,omitempty"`
	// Virtual says what virtual machine this is ("QEMU virt machine (device
	// tree: linux,dummy-virt)"); empty on real hardware. Latency measured
	// on a virtual machine is not a board's (see LatencyWarning).
	Virtual string `json:"virtual_machine,omitempty"`
	Cores   int    `json:"cores"`
	// Governor is cpu0's cpufreq scaling governor ("ondemand", "performance").
	Governor string `json:"governor,omitempty"`
	// TemperatureC is the highest thermal zone reading, in °C.
	TemperatureC *float64 `json:"temperature_c,omitempty"`
	MemTotalMB   int64    `json:"mem_total_mb,omitempty"`
	MemAvailMB   int64    `json:"mem_available_mb,omitempty"`
	// AgentVersion is the validate version running the agent.
	AgentVersion string `json:"agent_version,omitempty"`
	// Runtimes are the TFLite runtimes the agent can use.
	Runtimes []RuntimeFacts `json:"runtimes,omitempty"`
	// Delegates are the delegate libraries found on the machine.
	Delegates []DelegateFacts `json:"delegates,omitempty"`
}

// RuntimeFacts describe one runtime as available on the machine.
type RuntimeFacts struct {
	Name      string `json:"name"`
	Available bool   `json:"available"`
	Version   string `json:"version,omitempty"`
	Detail    string `json:"detail,omitempty"` // Node version, library path, or why unavailable
}

// DelegateFacts describe one delegate library found on the machine.
type DelegateFacts struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Version string `json:"version,omitempty"`
}

// CollectFacts reads this machine's facts (cheap: files under /proc and
// /sys, uname, and `node --version` for the LiteRT runtime).
func CollectFacts(ctx context.Context, agentVersion string) *Facts {
	return collectFacts(ctx, agentVersion, nil)
}

// collectFacts is CollectFacts with the runtime and delegate facts of an
// earlier probe when probed is set.
func collectFacts(ctx context.Context, agentVersion string, probed *probedFacts) *Facts {
	f := &Facts{GoArch: goruntime.GOOS + "/" + goruntime.GOARCH, Cores: goruntime.NumCPU(), AgentVersion: agentVersion}
	f.Hostname, _ = os.Hostname()
	f.OS, f.Arch, f.Kernel = uname()
	f.CPUModel, f.Board, f.Virtual = machineFacts("/")
	f.Governor = readTrim("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
	f.TemperatureC = temperature()
	f.MemTotalMB, f.MemAvailMB = meminfo()
	if probed != nil {
		f.Runtimes, f.Delegates = probed.runtimes, probed.delegates
	} else {
		f.Runtimes, f.Delegates = runtimeFacts(ctx), delegateFacts()
	}
	return f
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) > 1<<16 {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// temperature returns the highest thermal zone temperature.
func temperature() *float64 {
	zones, _ := filepath.Glob("/sys/class/thermal/thermal_zone*/temp")
	var best *float64
	for _, z := range zones {
		milli, err := strconv.ParseFloat(readTrim(z), 64)
		if err != nil {
			continue
		}
		c := milli / 1000
		if best == nil || c > *best {
			best = &c
		}
	}
	return best
}

func meminfo() (total, avail int64) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "MemTotal:":
			total = kb / 1024
		case "MemAvailable:":
			avail = kb / 1024
		}
	}
	return total, avail
}

// runtimeFacts reports every runtime registered in this binary (see
// runtime.Register), in name order: whether it can run here, its version
// and what it runs with (runtime.Prober), or why it cannot.
func runtimeFacts(ctx context.Context) []RuntimeFacts {
	// Each runtime is probed in its own goroutine: LiteRT's probe starts
	// Node, TFLite C's loads the library; neither waits for the other.
	names := runtime.Names()
	out := make([]RuntimeFacts, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			rf := RuntimeFacts{Name: name}
			rt, err := runtime.Get(name)
			if err == nil {
				if p, ok := rt.(runtime.Prober); ok {
					var st runtime.Status
					st, err = p.Probe(ctx)
					rf.Version, rf.Detail = st.Version, st.Detail
				}
			}
			if err != nil {
				rf.Detail = err.Error()
			} else {
				rf.Available = true
			}
			out[i] = rf
		})
	}
	wg.Wait()
	return out
}

// delegateFacts looks for the Edge TPU runtime library (libedgetpu).
func delegateFacts() []DelegateFacts {
	var out []DelegateFacts
	for _, pat := range []string{"/usr/lib/*/libedgetpu.so.1*", "/usr/lib/libedgetpu.so.1*", "/usr/local/lib/libedgetpu.so.1*"} {
		matches, _ := filepath.Glob(pat)
		for _, m := range matches {
			d := DelegateFacts{Name: "edgetpu", Path: m}
			if r, err := filepath.EvalSymlinks(m); err == nil && r != m {
				d.Version = strings.TrimPrefix(filepath.Base(r), "libedgetpu.so.")
			}
			out = append(out, d)
		}
		if len(out) > 0 {
			break
		}
	}
	return out
}
