package lava

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The markers of an output block in a job's log: the device prints
//
//	EDGEVAL-OUTPUT-BEGIN <name> sha256=<hex> bytes=<n>
//	<the file in base64, any line length>
//	EDGEVAL-OUTPUT-END <name>
//
// (blockShell is the shell function that prints it).
const (
	BlockBegin = "EDGEVAL-OUTPUT-BEGIN"
	BlockEnd   = "EDGEVAL-OUTPUT-END"
)

// MaxBlockBytes bounds one decoded block.
const MaxBlockBytes = 64 << 20

// blockShell defines edgeval_block NAME FILE in the device's shell
// (BusyBox or coreutils: sha256sum, wc, base64).
const blockShell = `edgeval_block() { echo "` + BlockBegin + ` $1 sha256=$(sha256sum "$2" | cut -d' ' -f1) bytes=$(wc -c < "$2" | tr -d ' ')"; base64 "$2"; echo "` + BlockEnd + ` $1"; }`

var (
	beginRE  = regexp.MustCompile(`^` + BlockBegin + ` (\S+) sha256=([0-9a-f]{64}) bytes=([0-9]+)$`)
	base64RE = regexp.MustCompile(`^[A-Za-z0-9+/=]+$`)
	// printkRE is a kernel message with its timestamp, to the end of the line.
	printkRE = regexp.MustCompile(`\[ *[0-9]+\.[0-9]{6}\] .*$`)
)

// EncodeBlock returns the block of a file as the device prints it (for
// tests and for devices that print blocks themselves).
func EncodeBlock(name string, data []byte) string {
	sum := sha256.Sum256(data)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s sha256=%s bytes=%d\n", BlockBegin, name, hex.EncodeToString(sum[:]), len(data))
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	if enc != "" {
		b.WriteString(enc + "\n")
	}
	fmt.Fprintf(&b, "%s %s\n", BlockEnd, name)
	return b.String()
}

// logLine is one entry of LAVA's job log.
type logLine struct {
	DT  string    `yaml:"dt"`
	Lvl string    `yaml:"lvl"`
	Msg yaml.Node `yaml:"msg"`
}

// TargetLines returns the lines the device printed (level "target") of a
// LAVA job log: a YAML list of {dt, lvl, msg}.
func TargetLines(log []byte) ([]string, error) {
	var entries []logLine
	if err := yaml.Unmarshal(log, &entries); err != nil {
		return nil, fmt.Errorf("LAVA log is not a YAML list of {dt, lvl, msg}: %w", err)
	}
	var lines []string
	for _, e := range entries {
		if e.Lvl != "target" || e.Msg.Kind != yaml.ScalarNode {
			continue
		}
		lines = append(lines, strings.TrimRight(e.Msg.Value, "\r\n"))
	}
	return lines, nil
}

// DecodeBlocks returns the files of every output block in lines, by name,
// each checked against its header's sha256 and size (see Decode); the
// first corrupt block, in name order, is the error.
func DecodeBlocks(job string, lines []string) (map[string][]byte, error) {
	d := Decode(job, lines)
	if d.Err != nil {
		return nil, d.Err
	}
	for _, name := range sortedKeys(d.Corrupt) {
		return nil, d.Corrupt[name]
	}
	return d.Blocks, nil
}

// Decoded is what a job's console held.
type Decoded struct {
	// Blocks are the blocks whose content matches their header.
	Blocks map[string][]byte
	// Corrupt are the blocks that do not: their content does not match,
	// they do not end, or their name was printed twice.
	Corrupt map[string]*ChecksumError
	// Err is a block header too damaged to name its block: no block of
	// the job can be trusted to be complete.
	Err *ChecksumError
}

// Decode reads every output block of lines. A kernel message printed into
// a block's line (printk's "[  169.155631] hrtimer: …", which a serial
// console interleaves with the test's output) is cut off, and other lines
// inside a block that are not base64 are skipped: the sha256 then says
// whether the block survived.
func Decode(job string, lines []string) *Decoded {
	d := &Decoded{Blocks: map[string][]byte{}, Corrupt: map[string]*ChecksumError{}}
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(line, BlockBegin+" ") {
			continue
		}
		m := beginRE.FindStringSubmatch(line)
		if m == nil {
			d.Err = &ChecksumError{Job: job, Name: "?", Reason: fmt.Sprintf("malformed block header %q", line)}
			return d
		}
		name, want := m[1], m[2]
		bad := func(format string, args ...any) {
			if d.Corrupt[name] == nil { // the first reason stays
				d.Corrupt[name] = &ChecksumError{Job: job, Name: name, Reason: fmt.Sprintf(format, args...)}
			}
			delete(d.Blocks, name)
		}
		size, err := strconv.Atoi(m[3])
		if err != nil || size > MaxBlockBytes {
			bad("block size %s beyond %d bytes", m[3], MaxBlockBytes)
			continue
		}
		_, seen := d.Blocks[name]
		if _, corrupt := d.Corrupt[name]; seen || corrupt {
			bad("printed twice")
			continue
		}
		var enc bytes.Buffer
		ended := false
		for i++; i < len(lines); i++ {
			l := strings.TrimSpace(lines[i])
			if l == BlockEnd+" "+name {
				ended = true
				break
			}
			if strings.HasPrefix(l, BlockBegin) || strings.HasPrefix(l, BlockEnd) {
				i--
				break
			}
			if loc := printkRE.FindStringIndex(l); loc != nil {
				l = l[:loc[0]]
			}
			if base64RE.MatchString(l) {
				enc.WriteString(l)
			}
			if enc.Len() > MaxBlockBytes*4/3+4 {
				break
			}
		}
		if !ended {
			bad("the block does not end (the log was cut, or another block began)")
			continue
		}
		data, err := base64.StdEncoding.DecodeString(enc.String())
		if err != nil {
			bad("not base64: %v", err)
			continue
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != want || len(data) != size {
			bad("content has sha256 %s and %d bytes, the device announced %s and %d bytes", got, len(data), want, size)
			continue
		}
		d.Blocks[name] = data
	}
	return d
}

// errorOf returns the error_msg of a LAVA test case's metadata (YAML).
func errorOf(metadata string) string {
	var m map[string]any
	if yaml.Unmarshal([]byte(metadata), &m) != nil {
		return ""
	}
	if s, ok := m["error_msg"].(string); ok {
		return s
	}
	return ""
}
