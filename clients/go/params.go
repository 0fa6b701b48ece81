package b24gate

import (
	"bytes"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// Params are a method's parameters: anything encoding/json can marshal.
// They travel as JSON text (params_json), so key order reaches Bitrix24 as
// written — it decides the priority of a multi-field `order`. Go maps are
// marshaled with sorted keys; where order matters use a struct, Ordered, or
// json.RawMessage. A string or []byte is taken as JSON text as it is.
type Params = any

// Ordered is a JSON object that keeps its keys in the order given, written
// as alternating keys and values (like log/slog's arguments):
//
//	b24gate.Ordered{"STAGE_ID", "ASC", "ID", "DESC"}
type Ordered []any

// MarshalJSON writes the members in order.
func (o Ordered) MarshalJSON() ([]byte, error) {
	if len(o)%2 != 0 {
		return nil, fmt.Errorf("b24gate: Ordered needs key/value pairs, got %d elements", len(o))
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i := 0; i < len(o); i += 2 {
		key, ok := o[i].(string)
		if !ok {
			return nil, fmt.Errorf("b24gate: Ordered key %d is %T, not a string", i/2, o[i])
		}
		keyText, _ := json.Marshal(key)
		value, err := json.Marshal(o[i+1])
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(keyText)
		buf.WriteByte(':')
		buf.Write(value)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// paramsJSON returns the params as JSON text; "" for nil (no params).
func paramsJSON(p Params) (string, error) {
	switch v := p.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	case json.RawMessage:
		return string(v), nil
	}
	text, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("b24gate: params: %w", err)
	}
	return string(text), nil
}

// toValue converts any JSON-marshalable value to google.protobuf.Value.
func toValue(v any) (*structpb.Value, error) {
	text, err := paramsJSON(v)
	if err != nil {
		return nil, err
	}
	if text == "" {
		text = "null"
	}
	value := &structpb.Value{}
	if err := protojson.Unmarshal([]byte(text), value); err != nil {
		return nil, fmt.Errorf("b24gate: params: %w", err)
	}
	return value, nil
}

// toJSON converts a google.protobuf.Value back to JSON text.
func toJSON(v *structpb.Value) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	text, err := protojson.Marshal(v)
	if err != nil { // only for NaN/Inf numbers, which JSON cannot carry
		return json.RawMessage("null")
	}
	return json.RawMessage(text)
}
