package recordings

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// The capture writes 8 kHz 16-bit stereo WAV with a 44-byte header.
const (
	wavHeader   = 44
	frameBytes  = 4
	bytesPerSec = 8000 * frameBytes
)

// RepairWAV makes the header of a stereo recording cut short say what the
// file holds (whole frames only) and returns its duration.
func RepairWAV(path string) (time.Duration, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var h [wavHeader]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		// Killed before the header was written: an empty recording.
		putHeader(h[:], 0)
		if _, err := f.WriteAt(h[:], 0); err != nil {
			return 0, err
		}
		return 0, f.Truncate(wavHeader)
	}
	if err := checkHeader(h[:]); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	data := (st.Size() - wavHeader) / frameBytes * frameBytes
	if int64(binary.LittleEndian.Uint32(h[40:])) != data || st.Size() != wavHeader+data {
		if err := f.Truncate(wavHeader + data); err != nil {
			return 0, err
		}
		putHeader(h[:], data)
		if _, err := f.WriteAt(h[:], 0); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
	}
	return time.Duration(data) * time.Second / bytesPerSec, nil
}

// wavDuration is the duration a complete recording's header says.
func wavDuration(path string) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var h [wavHeader]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return 0, fmt.Errorf("no WAV header: %w", err)
	}
	if err := checkHeader(h[:]); err != nil {
		return 0, err
	}
	return time.Duration(binary.LittleEndian.Uint32(h[40:])) * time.Second / bytesPerSec, nil
}

func checkHeader(h []byte) error {
	if string(h[0:4]) != "RIFF" || string(h[8:12]) != "WAVE" || string(h[36:40]) != "data" ||
		binary.LittleEndian.Uint16(h[22:]) != 2 || binary.LittleEndian.Uint32(h[24:]) != 8000 {
		return errors.New("not an 8 kHz stereo WAV of ours")
	}
	return nil
}

// putHeader writes the canonical header of 8 kHz 16-bit stereo PCM with
// data bytes of audio.
func putHeader(h []byte, data int64) {
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+data))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 2)
	binary.LittleEndian.PutUint32(h[24:], 8000)
	binary.LittleEndian.PutUint32(h[28:], bytesPerSec)
	binary.LittleEndian.PutUint16(h[32:], frameBytes)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(data))
}
