package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes/float16"
)

func TestWriteReadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.safetensors")
	in := []Tensor{
		{Name: "b.weight", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, float32(math.Inf(1)), -0.25}},
		{Name: "a.scalar", Shape: nil, Data: []float32{4.6052}},
		{Name: "status", Shape: []int{4}, U8: []uint8{0, 1, 2, 1}},
	}
	if err := Save(path, in, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := strings.Join(f.Names(), ","); got != "a.scalar,b.weight,status" {
		t.Errorf("names %s", got)
	}
	if f.Metadata["format"] != "pt" {
		t.Errorf("metadata %v", f.Metadata)
	}
	data, shape, err := f.Float32("b.weight")
	if err != nil || len(shape) != 2 || shape[0] != 2 || shape[1] != 3 {
		t.Fatalf("b.weight: %v %v", shape, err)
	}
	for i := range data {
		if data[i] != in[0].Data[i] {
			t.Errorf("b.weight[%d] = %v, want %v", i, data[i], in[0].Data[i])
		}
	}
	s, shape, err := f.Float32("a.scalar")
	if err != nil || len(shape) != 0 || s[0] != 4.6052 {
		t.Errorf("scalar: %v %v %v", s, shape, err)
	}
	raw, err := f.Raw("status")
	if err != nil || string(raw) != string([]byte{0, 1, 2, 1}) {
		t.Errorf("status %v %v", raw, err)
	}
	if _, _, err := f.Float32("status"); err == nil {
		t.Error("reading U8 as float must fail")
	}
	// Header is 8-aligned, as the format recommends.
	b, _ := os.ReadFile(path)
	if n := binary.LittleEndian.Uint64(b[:8]); n%8 != 0 {
		t.Errorf("header length %d not a multiple of 8", n)
	}
}

func TestHalfPrecision(t *testing.T) {
	tests := []struct {
		bits uint16
		want float32
	}{{0x3c00, 1}, {0xc000, -2}, {0x3555, 0.333251953125}, {0x0001, 5.960464477539063e-08}, {0x7bff, 65504}, {0x8000, float32(math.Copysign(0, -1))}}
	for _, tc := range tests {
		if got := float16.Float16(tc.bits).Float32(); got != tc.want || math.Signbit(float64(got)) != math.Signbit(float64(tc.want)) {
			t.Errorf("half %#04x → %v, want %v", tc.bits, got, tc.want)
		}
	}
	// BF16 through a file.
	dir := t.TempDir()
	path := filepath.Join(dir, "bf16.safetensors")
	header := `{"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}`
	for len(header)%8 != 0 {
		header += " "
	}
	buf := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	buf = append(buf, header...)
	buf = binary.LittleEndian.AppendUint16(buf, 0x3f80) // 1.0
	buf = binary.LittleEndian.AppendUint16(buf, 0xc040) // -3.0
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, _, err := f.Float32("w")
	if err != nil || v[0] != 1 || v[1] != -3 {
		t.Errorf("bf16: %v %v", v, err)
	}
}

func TestCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	cases := map[string][]byte{
		"short":       {1, 2, 3},
		"huge header": binary.LittleEndian.AppendUint64(nil, 1<<40),
		"bad json":    append(binary.LittleEndian.AppendUint64(nil, 8), "{not json"[:8]...),
		"bad offsets": func() []byte {
			h := `{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`
			for len(h)%8 != 0 {
				h += " "
			}
			return append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(h))), h...), 0, 0, 0, 0)
		}(),
		"size mismatch": func() []byte {
			h := `{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`
			for len(h)%8 != 0 {
				h += " "
			}
			return append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(h))), h...), make([]byte, 8)...)
		}(),
	}
	for name, data := range cases {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if f, err := Open(p); err == nil {
			f.Close()
			t.Errorf("%s: Open succeeded", name)
		} else if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v does not name the file", name, err)
		}
	}
}

func TestRawDTypesThroughAReader(t *testing.T) {
	i64 := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 7), math.MaxUint64) // 7, -1
	f64 := binary.LittleEndian.AppendUint64(nil, math.Float64bits(-2.5))
	in := []Tensor{
		{Name: "/net/bn/count", Shape: []int{2}, Raw: i64, DType: "I64"},
		{Name: "/net/bn/mean", Shape: []int{1}, Raw: f64, DType: "F64"},
		{Name: "/net/w", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}},
	}
	var buf bytes.Buffer
	if err := Write(&buf, in, map[string]string{"format": "x"}); err != nil {
		t.Fatal(err)
	}
	f, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, ok := f.Info("/net/bn/count")
	if !ok || info.DType != "I64" || len(info.Shape) != 1 || info.Shape[0] != 2 {
		t.Fatalf("info %+v, %v", info, ok)
	}
	raw, err := f.Raw("/net/bn/count")
	if err != nil || !bytes.Equal(raw, i64) {
		t.Errorf("I64 bytes %v, %v", raw, err)
	}
	v, _, err := f.Float32("/net/bn/mean")
	if err != nil || v[0] != -2.5 {
		t.Errorf("F64 as float32: %v, %v", v, err)
	}
	if f.Metadata["format"] != "x" {
		t.Errorf("metadata %v", f.Metadata)
	}
	// A stream cut inside the data section fails, naming the tensor whose bytes are missing.
	if _, err := Read(bytes.NewReader(buf.Bytes()[:buf.Len()-3])); err == nil || !strings.Contains(err.Error(), "data_offsets") {
		t.Errorf("truncated stream: error %v", err)
	}
}

func TestWriteRejectsBadTensors(t *testing.T) {
	tests := []struct {
		name string
		t    Tensor
		want string
	}{
		{"shape", Tensor{Name: "a", Shape: []int{3}, Data: []float32{1, 2}}, "shape [3] (3 values) but 2 values"},
		{"dtype", Tensor{Name: "a", Shape: []int{1}, Raw: []byte{1}, DType: "Q7"}, "unknown dtype"},
		{"partial", Tensor{Name: "a", Shape: []int{1}, Raw: []byte{1, 2, 3}, DType: "I32"}, "not a whole number"},
		{"two sources", Tensor{Name: "a", Shape: []int{1}, Data: []float32{1}, U8: []uint8{1}}, "more than one"},
		{"reserved", Tensor{Name: "__metadata__", Shape: []int{1}, Data: []float32{1}}, "reserved"},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		if err := Write(&buf, []Tensor{tc.t}, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	path := filepath.Join(t.TempDir(), "bad.safetensors")
	if err := Save(path, []Tensor{tests[0].t}, nil); err == nil {
		t.Error("Save of a bad tensor succeeded")
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a failed Save left a file")
	}
}
