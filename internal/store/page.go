package store

// Page is a cursor page request: at most Limit rows older than the object
// StartingAfter, newest first. List queries fetch Limit+1 rows to learn
// whether there are more.
type Page struct {
	Limit         int
	StartingAfter string
}

// trimPage cuts the extra row and reports whether it was there.
func trimPage[T any](list []T, p Page) ([]T, bool, error) {
	if len(list) > p.Limit {
		return list[:p.Limit], true, nil
	}
	return list, false, nil
}
