package service

import "testing"

func TestPick(t *testing.T) {
	services := []ServiceInfo{
		{"Spooler", `C:\Windows\System32\spoolsv.exe`},
		{"Lotus Domino Server (LotusDominoData)", `"C:\Program Files\HCL\Domino\nservice.exe" "=C:\Program Files\HCL\Domino\notes.ini" "-jc" "-c"`},
		{"VMTools", `"C:\Program Files\VMware\VMware Tools\vmtoolsd.exe"`},
	}
	if got := Pick(services, []string{`C:\PROGRAM FILES\HCL\Domino\`}); got != "Lotus Domino Server (LotusDominoData)" {
		t.Fatalf("got %q", got)
	}
	if got := Pick(services, []string{`C:\Program Files\HCL\Dom`}); got != "" {
		t.Fatalf("a prefix of a directory name matched: %q", got)
	}
	two := append(services, ServiceInfo{"Lotus Domino Server (Partition2)", `C:\Program Files\HCL\Domino\nservice.exe =D:\data2\notes.ini`})
	if got := Pick(two, []string{`C:\Program Files\HCL\Domino`}); got != "" {
		t.Fatalf("two partitions must not be guessed between: %q", got)
	}
	if executableOf(`C:\Program Files\HCL\Domino\nservice.exe =x`) != `C:\Program Files\HCL\Domino\nservice.exe` {
		t.Fatal("unquoted command line")
	}
}
