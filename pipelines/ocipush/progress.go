package ocipush

import (
	"github.com/stevedore-ci/stevedore/pipelines/internal/bytesize"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// reportProgress logs transfer updates at every tenth of the total, so a
// large push shows signs of life without flooding the log. It drains
// updates until the channel closes or the returned stop function is
// called; call stop once the transfer has returned.
func reportProgress(log func(string), updates <-chan v1.Update) (stop func()) {
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		lastStep := int64(-1)
		for {
			select {
			case <-quit:
				return
			case u, ok := <-updates:
				if !ok {
					return
				}
				if u.Error != nil || u.Total <= 0 {
					continue
				}
				if step := u.Complete * 10 / u.Total; step > lastStep {
					lastStep = step
					logf(log, "uploaded %s of %s (%d%%)", bytesize.Format(u.Complete), bytesize.Format(u.Total), u.Complete*100/u.Total)
				}
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}
