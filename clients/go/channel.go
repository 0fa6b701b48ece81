package b24gate

import (
	_ "embed" // the service config
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// serviceConfig holds deadlines by method and retries of UNAVAILABLE for the
// reads only (GetAll, GetById): Call, CallBatch and CallMany may write, and a
// write that came back OUTCOME_UNKNOWN may have run. A copy of
// clients/service-config.json, written by scripts/generate-clients.sh.
//
// grpc-go before 1.40 (Debian 12 has 1.33) applies retry policies only when
// the environment has GRPC_GO_RETRY=on.
//
//go:embed service_config.json
var serviceConfig string

// A GetAll can sit silent for minutes while the portal's limits hold it back;
// pings every 5 minutes keep idle-timeout middleboxes from cutting it. gRPC
// servers refuse pings more frequent than every 5 minutes by default
// (GOAWAY "too_many_pings"), so this is also the shortest safe interval.
var keepaliveParams = keepalive.ClientParameters{Time: 5 * time.Minute, Timeout: 20 * time.Second}

func defaultDialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithDefaultServiceConfig(serviceConfig),
		grpc.WithKeepaliveParams(keepaliveParams),
	}
}
