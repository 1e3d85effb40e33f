package nsf

import (
	"os"
	"path/filepath"
	"testing"
)

func TestOpenCloseVerify(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.nsf"), filepath.Join(dir, "mail", "b.nsf")
	if err := Create(b); err != nil {
		t.Fatal(err)
	}
	db, err := Open(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Write("test"); err != nil {
		t.Fatal(err)
	}
	r, err := Verify(dir)
	if err != nil || r.Checked != 2 || len(r.Dirty) != 1 || r.Dirty[0] != "a.nsf" || r.Consistent() {
		t.Fatalf("while open: %+v %v", r, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if r, _ := Verify(dir); !r.Consistent() {
		t.Fatalf("after close: %+v", r)
	}
	if err := db.Write("late"); err == nil {
		t.Fatal("write after close succeeded")
	}
}

func TestVerifyBrokenAndEmpty(t *testing.T) {
	dir := t.TempDir()
	if r, _ := Verify(dir); r.Consistent() {
		t.Fatal("an empty directory must not pass")
	}
	if err := os.WriteFile(filepath.Join(dir, "torn.nsf"), []byte("SIMN"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.ini"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, _ := Verify(dir)
	if r.Checked != 1 || len(r.Broken) != 1 || r.Consistent() {
		t.Fatalf("torn header: %+v", r)
	}
}
