package recipes

import (
	"fmt"

	"github.com/infersweep/infersweep/sweep"
)

// AttachSimulated is Attach for a night previewed on simulated pools
// (`infersweep demo --simulate`): every point the recipes serve is
// launched by the simulated engine's recipe (sim, or sim-multinode's
// roles and router) with its own model, GPU, precision and parallelism,
// and its framework naming the fitted step overhead and efficiency the
// simulator applies. The rows say so: their launch_recipe is the
// simulator's. The settings' engine arguments are a real engine's and
// are not passed.
func AttachSimulated(points []sweep.Point, _ sweep.Settings, _ sweep.LaunchSources) error {
	c := Default()
	for i := range points {
		p := &points[i]
		if !Served(*p) {
			continue
		}
		stand := *p
		stand.Framework = "sim"
		rc, err := c.Find(stand)
		if err != nil {
			return err
		}
		if p.Launch, err = rc.Render(*p); err != nil {
			return fmt.Errorf("simulate point %s of %s: %w", p.ID, p.Entry, err)
		}
	}
	return nil
}
