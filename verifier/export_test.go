package verifier

// ForgetTokens empties v's verified-token cache, for benchmarks of the full
// verification.
func ForgetTokens(v *Verifier) { v.cache.clear() }

// SetCacheEntries replaces v's verified-token cache with one of n entries;
// call it before v is used.
func SetCacheEntries(v *Verifier, n int) { v.cache = newTokenCache(n) }
