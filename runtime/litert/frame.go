package litert

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Frame limits. A reply header is small JSON; reply data are output tensors,
// checked against the shapes the header declares before anything is read.
const (
	maxHeader = 16 << 20
	maxData   = 1<<32 - 1
)

// framePrefix returns the 8-byte prefix of a frame (u32 LE header length,
// u32 LE data length) with the given header and data.
func framePrefix(header []byte, data [][]byte) ([8]byte, error) {
	var pre [8]byte
	n := 0
	for _, d := range data {
		n += len(d)
	}
	if len(header) > maxHeader || uint64(n) > maxData {
		return pre, fmt.Errorf("frame too large (header %d bytes, data %d bytes)", len(header), n)
	}
	binary.LittleEndian.PutUint32(pre[:4], uint32(len(header)))
	binary.LittleEndian.PutUint32(pre[4:], uint32(n))
	return pre, nil
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
	if uint64(dl) > math.MaxInt {
		return nil, 0, fmt.Errorf("malformed frame: %d data bytes do not fit this platform", dl)
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
