package devices

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteProfiles writes the profiles of cfg as a table (`validate
// devices`): where they come from, then name, address, user, runtime,
// delegate and threads of each, in name order.
func WriteProfiles(w io.Writer, cfg *Config) error {
	src := cfg.File
	if src == "" {
		src = "none found; only the built-in host"
	}
	fmt.Fprintf(w, "profiles from %s\n\n", src)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tADDRESS\tUSER\tRUNTIME\tDELEGATE\tTHREADS")
	for _, n := range cfg.Names() {
		p := cfg.Devices[n]
		addr, user := "this machine", "-"
		if p.Remote() {
			addr, user = p.Addr(), p.User
			if user == "" {
				user = "(local user)"
			}
		}
		threads := "default"
		if p.Threads > 0 {
			threads = fmt.Sprint(p.Threads)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", n, addr, user, p.Runtime, p.Delegate, threads)
	}
	return tw.Flush()
}

// WriteFacts writes the facts of the device called name as a two-column
// table (`validate devices probe NAME`), leaving out what the machine does
// not expose.
func WriteFacts(w io.Writer, name string, f *Facts) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("device", name)
	row("hostname", f.Hostname)
	row("system", strings.TrimSpace(f.OS+" "+f.Arch+" "+f.Kernel))
	row("cpu", fmt.Sprintf("%s, %d cores", f.CPUModel, f.Cores))
	row("board", f.Board)
	row("virtual machine", f.Virtual)
	row("governor", f.Governor)
	if f.TemperatureC != nil {
		row("temperature", fmt.Sprintf("%.1f °C", *f.TemperatureC))
	}
	if f.MemTotalMB > 0 {
		row("memory", fmt.Sprintf("%d MB, %d MB available", f.MemTotalMB, f.MemAvailMB))
	}
	row("agent", f.AgentVersion+" ("+f.GoArch+")")
	for _, r := range f.Runtimes {
		state := "unavailable"
		if r.Available {
			state = strings.TrimSpace(r.Version)
		}
		row("runtime "+r.Name, strings.TrimSpace(state+"  "+r.Detail))
	}
	for _, d := range f.Delegates {
		row("delegate "+d.Name, strings.TrimSpace(d.Version+"  "+d.Path))
	}
	return tw.Flush()
}
