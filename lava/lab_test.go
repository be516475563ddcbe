package lava_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edgeval/edgeval/internal/lavalab"
	"github.com/edgeval/edgeval/lava"
)

// TestClientOnTheLab: the REST client against the real LAVA 2023.01 of
// scripts/lava-lab.sh: version, the token's user, the device type's
// devices; a refused token and a definition LAVA rejects are typed; a job
// canceled while it waits is a *JobFault naming LAVA's reason.
func TestClientOnTheLab(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the LAVA lab")
	}
	lab := lavalab.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := &lava.Client{URL: lab.URL, Token: lab.Token}

	v, err := c.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, "2023.01", v)
	user, err := c.WhoAmI(ctx)
	require.NoError(t, err)
	assert.Equal(t, lab.User, user)
	ds, err := c.Devices(ctx, lab.DeviceType)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, lab.Device, ds[0].Hostname)

	bad := &lava.Client{URL: lab.URL, Token: "not-a-token"}
	_, err = bad.Submit(ctx, []byte(lab.Definition(t, "../internal/lavalab/testdata/qemu-smoke.yaml")))
	var ue *lava.UnauthorizedError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, err.Error(), "Invalid token")

	_, err = c.Submit(ctx, []byte("device_type: qemu\njob_name: broken\nactions: 3\n"))
	var ae *lava.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 400, ae.Status)

	ids, err := c.Submit(ctx, []byte(lab.Definition(t, "../internal/lavalab/testdata/qemu-smoke.yaml")))
	require.NoError(t, err)
	require.Len(t, ids, 1)
	require.NoError(t, c.Cancel(ctx, ids[0]))
	j, err := c.Wait(ctx, ids[0], time.Second)
	require.NoError(t, err)
	assert.Equal(t, "Canceled", j.Health)
	cases, err := c.Results(ctx, ids[0])
	require.NoError(t, err)
	err = c.Fault(j, cases)
	var jf *lava.JobFault
	require.ErrorAs(t, err, &jf)
	assert.Contains(t, err.Error(), "is canceled")
	t.Logf("canceled job: %v", err)
	// The lab has no health check: a canceled job may leave the device
	// in a state that needs one.
	lab.DeviceGood(t)
}
