package deploy_test

import (
	"bufio"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// distTargets are the platforms `make dist` builds (its PLATFORMS).
var distTargets = []struct{ goos, goarch string }{
	{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}, {"windows", "amd64"},
}

// TestDist checks the output of `make dist` in the directory named by
// P100_DIST_DIR (.ci/run builds it and sets it; cross-compiling five
// binaries is too slow for every `make test`): one binary per platform,
// named importer-VERSION-OS-ARCH[.exe], in its platform's executable format,
// static (CGO_ENABLED=0, no ELF interpreter or shared library), built with
// -trimpath, main.version stamped (read from the symbol table); the one for this machine runs and
// prints the version; SHA256SUMS lists exactly the binaries, with their
// hashes. VERSION is P100_DIST_VERSION, else `git describe` as the Makefile
// computes it.
func TestDist(t *testing.T) {
	dir := os.Getenv("P100_DIST_DIR")
	if dir == "" {
		t.Skip("P100_DIST_DIR is not set: run make dist, then P100_DIST_DIR=dist go test ./deploy -run TestDist (.ci/run does)")
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir)
	}
	version := os.Getenv("P100_DIST_VERSION")
	if version == "" {
		out, err := exec.Command("git", "describe", "--tags", "--always", "--dirty").Output()
		if err != nil {
			t.Fatalf("git describe: %v (set P100_DIST_VERSION)", err)
		}
		version = strings.TrimSpace(string(out))
	}

	want := map[string]bool{}
	for _, p := range distTargets {
		name := fmt.Sprintf("importer-%s-%s-%s", version, p.goos, p.goarch)
		if p.goos == "windows" {
			name += ".exe"
		}
		want[name] = true
		t.Run(p.goos+"/"+p.goarch, func(t *testing.T) {
			file := filepath.Join(dir, name)
			checkFormat(t, file, p.goos, p.goarch)
			checkBuildInfo(t, file, p.goos, p.goarch)
			if got := stampedVersion(t, file, p.goos); got != version {
				t.Errorf("%s: main.version is %q, want %q", name, got, version)
			}
			if p.goos == runtime.GOOS && p.goarch == runtime.GOARCH {
				out, err := exec.Command(file, "--version").Output()
				if err != nil || string(out) != "importer "+version+"\n" {
					t.Errorf("%s --version: %q, %v; want %q", name, out, err, "importer "+version+"\n")
				}
			}
		})
	}

	sums, err := os.Open(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer sums.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(sums)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ") // sha256sum's text mode: HASH, two spaces, NAME
		if !ok || len(sum) != 64 {
			t.Errorf("SHA256SUMS line %q is not sha256sum's format", sc.Text())
			continue
		}
		listed[name] = true
		if got := mustSHA256(t, filepath.Join(dir, name)); got != sum {
			t.Errorf("SHA256SUMS: %s is %s, the file's SHA-256 is %s", name, sum, got)
		}
	}
	for name := range want {
		if !listed[name] {
			t.Errorf("SHA256SUMS does not list %s", name)
		}
	}
	for name := range listed {
		if !want[name] {
			t.Errorf("SHA256SUMS lists %s, which make dist should not build", name)
		}
	}
}

// checkFormat opens file as its platform's executable format and checks
// the architecture, and that a Linux binary is static.
func checkFormat(t *testing.T, file, goos, goarch string) {
	t.Helper()
	switch goos {
	case "linux":
		f, err := elf.Open(file)
		if err != nil {
			t.Fatalf("%s: not ELF: %v", file, err)
		}
		defer f.Close()
		machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
		if f.Machine != machine || f.Class != elf.ELFCLASS64 || f.Type != elf.ET_EXEC {
			t.Errorf("%s: ELF %v %v %v, want %v ELFCLASS64 ET_EXEC", file, f.Machine, f.Class, f.Type, machine)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("%s: has a %v program header: dynamically linked", file, p.Type)
			}
		}
	case "darwin":
		f, err := macho.Open(file)
		if err != nil {
			t.Fatalf("%s: not Mach-O: %v", file, err)
		}
		defer f.Close()
		cpu := map[string]macho.Cpu{"amd64": macho.CpuAmd64, "arm64": macho.CpuArm64}[goarch]
		if f.Cpu != cpu || f.Type != macho.TypeExec {
			t.Errorf("%s: Mach-O %v type %v, want %v executable", file, f.Cpu, f.Type, cpu)
		}
	case "windows":
		f, err := pe.Open(file)
		if err != nil {
			t.Fatalf("%s: not PE: %v", file, err)
		}
		defer f.Close()
		if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 || f.Characteristics&pe.IMAGE_FILE_EXECUTABLE_IMAGE == 0 {
			t.Errorf("%s: PE machine %#x characteristics %#x, want an AMD64 executable", file, f.Machine, f.Characteristics)
		}
		if _, ok := f.OptionalHeader.(*pe.OptionalHeader64); !ok {
			t.Errorf("%s: not a PE32+ (64-bit) image", file)
		}
	}
}

// checkBuildInfo reads the Go build settings embedded in file. (With
// -trimpath Go does not record -ldflags: stampedVersion reads the value.)
func checkBuildInfo(t *testing.T, file, goos, goarch string) {
	t.Helper()
	info, err := buildinfo.ReadFile(file)
	if err != nil {
		t.Fatalf("%s: no Go build information: %v", file, err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for key, want := range map[string]string{"GOOS": goos, "GOARCH": goarch, "CGO_ENABLED": "0", "-trimpath": "true"} {
		if settings[key] != want {
			t.Errorf("%s: built with %s=%q, want %q", file, key, settings[key], want)
		}
	}
	if info.Path != "github.com/p100/p100-importer/cmd/importer" {
		t.Errorf("%s: is %s, not the importer", file, info.Path)
	}
}

func mustSHA256(tb testing.TB, file string) string {
	tb.Helper()
	f, err := os.Open(file)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// section is a loaded section of an executable: its virtual address range
// and its contents.
type section struct {
	addr, size uint64
	r          io.ReaderAt
}

// stampedVersion reads the string variable main.version out of file: its
// symbol's 16 bytes are a string header (pointer, length; little-endian on
// every dist platform), the pointer an address in a read-only section.
func stampedVersion(t *testing.T, file, goos string) string {
	t.Helper()
	var secs []section
	var sym uint64
	found := false
	switch goos {
	case "linux":
		f, err := elf.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, s := range f.Sections {
			if s.Type != elf.SHT_NOBITS && s.Addr != 0 {
				secs = append(secs, section{s.Addr, s.Size, s})
			}
		}
		syms, err := f.Symbols()
		if err != nil {
			t.Fatalf("%s: no symbol table (built with -s?): %v", file, err)
		}
		for _, s := range syms {
			if s.Name == "main.version" {
				sym, found = s.Value, true
			}
		}
	case "darwin":
		f, err := macho.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, s := range f.Sections {
			secs = append(secs, section{s.Addr, s.Size, s})
		}
		if f.Symtab == nil {
			t.Fatalf("%s: no symbol table (built with -s?)", file)
		}
		for _, s := range f.Symtab.Syms {
			if s.Name == "main.version" || s.Name == "_main.version" {
				sym, found = s.Value, true
			}
		}
	case "windows":
		f, err := pe.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
		if !ok {
			t.Fatalf("%s: not PE32+", file)
		}
		for _, s := range f.Sections {
			secs = append(secs, section{oh.ImageBase + uint64(s.VirtualAddress), uint64(s.Size), s})
		}
		for _, s := range f.Symbols {
			if s.Name == "main.version" && s.SectionNumber > 0 && int(s.SectionNumber) <= len(f.Sections) {
				sym = oh.ImageBase + uint64(f.Sections[s.SectionNumber-1].VirtualAddress) + uint64(s.Value)
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("%s: no symbol main.version (built with -s?)", file)
	}
	header := readAt(t, secs, sym, 16)
	ptr, n := le64(header[:8]), le64(header[8:])
	if n > 256 {
		t.Fatalf("%s: main.version's length %d is not a version's", file, n)
	}
	return string(readAt(t, secs, ptr, n))
}

// readAt reads n bytes at virtual address addr from the section holding them.
func readAt(t *testing.T, secs []section, addr, n uint64) []byte {
	t.Helper()
	for _, s := range secs {
		if addr >= s.addr && addr+n <= s.addr+s.size {
			buf := make([]byte, n)
			if _, err := s.r.ReadAt(buf, int64(addr-s.addr)); err != nil {
				t.Fatalf("read %d bytes at %#x: %v", n, addr, err)
			}
			return buf
		}
	}
	t.Fatalf("address %#x (%d bytes) is in no section", addr, n)
	return nil
}

func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}
