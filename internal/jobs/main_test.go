package jobs

import (
	"testing"

	"github.com/billingd/billingd/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }
