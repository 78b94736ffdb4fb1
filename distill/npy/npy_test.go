package npy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestGolden reads arrays NumPy wrote (testdata/README.md lists them) and checks shapes and values.
func TestGolden(t *testing.T) {
	floats := []struct {
		file  string
		shape []int
		want  []float32
	}{
		{"f4.npy", []int{2, 3}, []float32{0, 0.25, 0.5, 0.75, 1, 1.25}},
		{"f8_fortran.npy", []int{2, 3}, []float32{0, 1, 2, 3, 4, 5}},
		{"f2.npy", []int{3}, []float32{0.5, -2, 65504}},
		{"scalar.npy", []int{}, []float32{7.5}},
		{"empty.npy", []int{0, 4}, []float32{}},
		{"f4_v2.npy", []int{2}, []float32{1.5, 2.5}},
	}
	for _, tc := range floats {
		a, err := Load(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		got, err := a.Float32()
		if err != nil || !slices.Equal(a.Shape, tc.shape) || !slices.Equal(got, tc.want) {
			t.Errorf("%s: shape %v values %v (%v); want %v %v", tc.file, a.Shape, got, err, tc.shape, tc.want)
		}
	}
	ints := []struct {
		file  string
		shape []int
		want  []int
	}{
		{"i8.npy", []int{4}, []int{0, 1, -2, 3}},
		{"u1.npy", []int{3}, []int{0, 1, 255}},
		{"b1.npy", []int{3}, []int{1, 0, 1}},
		{"i4_bigendian.npy", []int{3}, []int{1, -2, 70000}},
	}
	for _, tc := range ints {
		a, err := Load(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		got, err := a.Ints()
		if err != nil || !slices.Equal(a.Shape, tc.shape) || !slices.Equal(got, tc.want) {
			t.Errorf("%s: shape %v values %v (%v); want %v %v", tc.file, a.Shape, got, err, tc.shape, tc.want)
		}
	}
	a, err := Load(filepath.Join("testdata", "i2_fortran3d.npy"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := a.Ints()
	for i, v := range got { // C order of arange(24).reshape(2, 3, 4) is 0..23 whatever the file's order
		if v != i {
			t.Fatalf("i2_fortran3d.npy: element %d = %d, want %d (values %v)", i, v, i, got)
		}
	}
	if _, err := a.Float32(); err == nil {
		t.Errorf("Float32 of an int16 array succeeded")
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dec.npy")
	want := []float32{1.5, -2, 0, 3.25, 1e-7, -1e30}
	if err := SaveFloat32(path, []int{2, 3}, want); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if hl := int(binary.LittleEndian.Uint16(raw[8:])); (10+hl)%64 != 0 || raw[10+hl-1] != '\n' {
		t.Errorf("header of %d bytes: data must start at a multiple of 64 after a newline", hl)
	}
	a, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.Float32()
	if err != nil || !slices.Equal(got, want) || !slices.Equal(a.Shape, []int{2, 3}) {
		t.Errorf("round trip: %v %v %v", a.Shape, got, err)
	}
	if Recognize(path) != nil || Recognize(filepath.Join("testdata", "README.md")) == nil {
		t.Errorf("Recognize: .npy %v, README %v", Recognize(path), Recognize(filepath.Join("testdata", "README.md")))
	}
	if err := WriteFloat32(&bytes.Buffer{}, []int{4}, want); err == nil {
		t.Errorf("a shape that disagrees with the values was written")
	}
}

// hostile returns a version 1.0 .npy file whose header claims shape (a Python tuple body) of dtype descr, followed
// by body.
func hostile(shape, descr string, body []byte) []byte {
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape)
	h += strings.Repeat(" ", 63-(len(h)+10)%64) + "\n"
	var b bytes.Buffer
	b.Write(magic)
	b.Write([]byte{1, 0})
	_ = binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(body)
	return b.Bytes()
}

// TestHostileHeaders holds the cases of issue 11 (a 128-byte file claiming shape (1e11, 512) ran out of memory; a
// negative dimension panicked in GoMLX's shapes.Make): each must be a clear error, without allocating what the
// header claims.
func TestHostileHeaders(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"shape (1e11, 512)", hostile("100000000000, 512", "<f4", nil), "needs 204800000000000 data bytes, the file has 0"},
		{"negative dimension", hostile("-5, 16", "<f4", nil), "negative"},
		{"overflowing product", hostile("4294967296, 4294967296", "<f8", nil), "overflows"},
		{"zero times a huge dimension", hostile("0, 4611686018427387904", "<f4", nil), "overflows"},
		{"truncated data", hostile("4, 4", "<f4", make([]byte, 10)), "needs 64 data bytes, the file has 10"},
		{"trailing bytes", hostile("2,", "<f4", make([]byte, 12)), "needs 8 data bytes, the file has 12"},
		{"structured dtype", hostile("2,", "[('a', '<f4')]", nil), "descr"},
		{"unknown dtype", hostile("2,", "<c8", make([]byte, 16)), "not supported"},
		{"not a tuple", hostile("2,)+(3", "<f4", nil), "expected"},
		{"huge header length", append(append([]byte{}, magic...), 2, 0, 0xff, 0xff, 0xff, 0xff, '{'), "exceeds"},
		{"not npy", []byte("PK\x03\x04 a zip file"), "not a .npy file"},
		{"version 9", append(append([]byte{}, magic...), 9, 0, 0, 0), "version 9.0"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".npy")
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Load error %v, want one naming the file and saying %q", tc.name, err, tc.want)
		}
		if _, err := Read(bytes.NewReader(tc.data)); err == nil && !strings.Contains(tc.name, "trailing") {
			t.Errorf("%s: Read accepted it", tc.name)
		}
	}
}

// FuzzRead feeds arbitrary bytes to Read. It must never panic, and an array it returns must hold exactly the
// values its shape says, no more than the input's bytes.
func FuzzRead(f *testing.F) {
	f.Add(hostile("3,", "<f4", make([]byte, 12)))
	f.Add(hostile("2, 2", "|b1", []byte{0, 1, 2, 1}))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		if a.Len() != n || n*a.ItemSize > len(data) {
			t.Fatalf("shape %v (%d elements of %d bytes) from %d input bytes; Len %d", a.Shape, n, a.ItemSize, len(data), a.Len())
		}
		if f, err := a.Float32(); err == nil && len(f) != n {
			t.Fatalf("Float32: %d values for %d elements", len(f), n)
		}
		if v, err := a.Ints(); err == nil && len(v) != n {
			t.Fatalf("Ints: %d values for %d elements", len(v), n)
		}
	})
}
