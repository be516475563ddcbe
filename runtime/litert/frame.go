package litert

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Frame limits. A reply header is small JSON; reply data are output tensors,
// checked against the shapes the header declares before anything is read.
const (
	maxHeader = 16 << 20
	maxData   = 1<<32 - 1
)

// appendFrame appends one frame (u32 LE header length, u32 LE data length,
// header, data...) to buf and returns it. Writing the result with one Write
// sends a request in one system call when it fits the pipe.
func appendFrame(buf, header []byte, data ...[]byte) ([]byte, error) {
	n := 0
	for _, d := range data {
		n += len(d)
	}
	if len(header) > maxHeader || uint64(n) > maxData {
		return nil, fmt.Errorf("frame too large (header %d bytes, data %d bytes)", len(header), n)
	}
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(header)))
	buf = binary.LittleEndian.AppendUint32(buf, uint32(n))
	buf = append(buf, header...)
	for _, d := range data {
		buf = append(buf, d...)
	}
	return buf, nil
}

// readFrameHeader reads a frame's prefix and header, returning the header
// and the number of data bytes that follow. hbuf is reused when large enough.
func readFrameHeader(r io.Reader, hbuf []byte) (header []byte, dataLen int, err error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, 0, err
	}
	hl := binary.LittleEndian.Uint32(pre[:4])
	dl := binary.LittleEndian.Uint32(pre[4:])
	if hl == 0 || hl > maxHeader {
		return nil, 0, fmt.Errorf("malformed frame: header length %d", hl)
	}
	if cap(hbuf) < int(hl) {
		hbuf = make([]byte, hl)
	}
	hbuf = hbuf[:hl]
	if _, err := io.ReadFull(r, hbuf); err != nil {
		return nil, 0, fmt.Errorf("malformed frame: reading %d-byte header: %w", hl, err)
	}
	return hbuf, int(dl), nil
}
