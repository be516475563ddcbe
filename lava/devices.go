package lava

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Device is a LAVA device as the API reports it.
type Device struct {
	Hostname   string `json:"hostname"`
	DeviceType string `json:"device_type"`
	// Health is Good, Unknown, Looping, Bad, Maintenance or Retired.
	Health string `json:"health"`
	// State is Idle, Reserved or Running.
	State string `json:"state"`
}

// Usable says whether LAVA may schedule a test job on the device: Bad
// (a failed health check), Maintenance and Retired devices take none.
func (d *Device) Usable() bool { return d.Health == "Good" || d.Health == "Unknown" }

// Devices returns the devices of a device type.
func (c *Client) Devices(ctx context.Context, deviceType string) ([]Device, error) {
	var all []Device
	for page := 1; page < 100; page++ {
		b, err := c.do(ctx, http.MethodGet, fmt.Sprintf("devices/?limit=500&offset=%d", (page-1)*500), nil, 16<<20)
		if err != nil {
			return nil, err
		}
		var r struct {
			Next    *string  `json:"next"`
			Results []Device `json:"results"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, &APIError{URL: c.root(), Status: 200, Message: fmt.Sprintf("devices: %v", err)}
		}
		for _, d := range r.Results {
			if d.DeviceType == deviceType {
				all = append(all, d)
			}
		}
		if r.Next == nil || *r.Next == "" {
			break
		}
	}
	return all, nil
}

// noDevice returns why no device of deviceType can run a waiting job (a
// failed health check, maintenance), or "" when one can.
func (c *Client) noDevice(ctx context.Context, deviceType string) (string, error) {
	ds, err := c.Devices(ctx, deviceType)
	if err != nil {
		return "", err
	}
	var why []string
	for _, d := range ds {
		if d.Usable() {
			return "", nil
		}
		s := d.Hostname + " is " + d.Health
		if d.Health == "Bad" {
			s += " (its health check failed)"
		}
		why = append(why, s)
	}
	if len(ds) == 0 {
		return fmt.Sprintf("LAVA has no device of type %s", deviceType), nil
	}
	return fmt.Sprintf("no device of type %s can run it: %s", deviceType, strings.Join(why, ", ")), nil
}
