package voicemail

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// The recorder writes 8 kHz 16-bit mono WAV with the canonical 44-byte
// header.
const (
	wavHeader    = 44
	bytesPerSec  = 8000 * 2
	riffSizeAt   = 4
	dataSizeAt   = 40
	channelsAt   = 22
	sampleRateAt = 24
)

// repairWAV makes the header of a recording cut short (the process killed
// between two header updates) say what the file holds, and returns its
// duration. A complete file is left as it is.
func repairWAV(path string) (time.Duration, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var h [wavHeader]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return 0, fmt.Errorf("%s: no WAV header: %w", path, err)
	}
	if string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" || string(h[36:40]) != "data" ||
		binary.LittleEndian.Uint16(h[channelsAt:]) != 1 || binary.LittleEndian.Uint32(h[sampleRateAt:]) != 8000 {
		return 0, fmt.Errorf("%s: not an 8 kHz mono WAV of ours", path)
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	data := (st.Size() - wavHeader) &^ 1 // whole samples only
	if data < 0 {
		return 0, errors.New("short file")
	}
	if int64(binary.LittleEndian.Uint32(h[dataSizeAt:])) != data || st.Size() != wavHeader+data {
		if err := f.Truncate(wavHeader + data); err != nil {
			return 0, err
		}
		binary.LittleEndian.PutUint32(h[riffSizeAt:], uint32(36+data))
		binary.LittleEndian.PutUint32(h[dataSizeAt:], uint32(data))
		if _, err := f.WriteAt(h[:], 0); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
	}
	return time.Duration(data) * time.Second / bytesPerSec, nil
}

// wavDuration is the length of a complete recording.
func wavDuration(path string) (time.Duration, error) {
	return repairWAV(path)
}

// trimWAV cuts a recording's end off: the silence that ended it is not
// part of the message.
func trimWAV(path string, cut time.Duration) error {
	d, err := repairWAV(path)
	if err != nil {
		return err
	}
	keep := max(d-cut, 0)
	data := int64(keep/time.Millisecond) * bytesPerSec / 1000 &^ 1
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(wavHeader + data); err != nil {
		return err
	}
	var sz [4]byte
	binary.LittleEndian.PutUint32(sz[:], uint32(36+data))
	if _, err := f.WriteAt(sz[:], riffSizeAt); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(sz[:], uint32(data))
	if _, err := f.WriteAt(sz[:], dataSizeAt); err != nil {
		return err
	}
	return f.Sync()
}
