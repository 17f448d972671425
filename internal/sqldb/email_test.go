package sqldb_test

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/storetest"
)

func TestEmailTokenStoreConformance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		storetest.RunEmailTokenStore(t, func(t *testing.T) storetest.EmailStores {
			db := newDB(t, b)
			return storetest.EmailStores{Users: db.Users(), Sessions: db.Sessions(), Tokens: db.EmailTokens(),
				MFA: db.MFA(), Identities: db.Identities()}
		})
	})
}
