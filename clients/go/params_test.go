package b24gate

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// toJSON walks a Value itself instead of going through protojson: every kind
// must come back as protojson would write it, and a number JSON cannot
// carry becomes null alone (through protojson the whole result was null).
func TestToJSONWritesEveryKindAsProtojson(t *testing.T) {
	values := []any{
		"plain", "a \"quoted\" \\ line\n\t\r\x01 é \u2028", "", 0.0, -7.0, 12345.0, 0.25, 1e21, 1e-7,
		123456789012.0, true, false, nil,
		[]any{"x", 1.0, []any{}, map[string]any{}},
		map[string]any{"ID": "42", "TITLE": "Lead", "nested": map[string]any{"b": 1.0, "a": []any{nil}}},
	}
	for _, v := range values {
		value, err := structpb.NewValue(v)
		if err != nil {
			t.Fatal(err)
		}
		want, err := protojson.Marshal(value)
		if err != nil {
			t.Fatal(err)
		}
		got := toJSON(value)
		var gotAny, wantAny any
		if err := json.Unmarshal(got, &gotAny); err != nil {
			t.Fatalf("%q is not JSON: %v", got, err)
		}
		if err := json.Unmarshal(want, &wantAny); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotAny, wantAny) {
			t.Errorf("toJSON(%#v) = %s, protojson %s", v, got, want)
		}
	}
}

func TestToJSONWritesANumberJSONCannotCarryAsNullAlone(t *testing.T) {
	item, _ := structpb.NewValue(map[string]any{"ID": "1", "SCORE": 0.0})
	item.GetStructValue().Fields["SCORE"] = structpb.NewNumberValue(math.NaN())
	if got := string(toJSON(item)); got != `{"ID":"1","SCORE":null}` {
		t.Errorf("toJSON = %s", got)
	}
}
