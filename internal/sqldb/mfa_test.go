package sqldb_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/storetest"
)

func TestMFAStoreConformance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.RunMFAStore(t, func(t *testing.T) storetest.MFAStores {
			db := newDB(t, b)
			return storetest.MFAStores{Users: db.Users(), Sessions: db.Sessions(), MFA: db.MFA()}
		})
	})
}
