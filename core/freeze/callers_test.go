package freeze_test

import (
	"context"
	"time"

	"github.com/quiesce/quiesce/core/freeze"
)

// Shared by the tests of every platform.
var (
	ctx    = context.Background()
	vmware = freeze.Caller{Name: "vmware", Budget: 15 * time.Minute}
	veeam  = freeze.Caller{Name: "veeam", Budget: 10 * time.Minute}
)
