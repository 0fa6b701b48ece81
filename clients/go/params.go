package b24gate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

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

// toJSON converts a google.protobuf.Value back to JSON text. It walks the
// value itself: protojson's reflection took longer than the rest of a
// GetAll's work in the client (see appendJSON).
func toJSON(v *structpb.Value) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	return json.RawMessage(appendJSON(make([]byte, 0, 64), v))
}

// appendJSON appends v as compact JSON: object keys sorted (as protojson
// writes them), numbers as encoding/json writes a float64, NaN and
// infinities (which JSON cannot carry) as null.
func appendJSON(b []byte, v *structpb.Value) []byte {
	switch k := v.GetKind().(type) {
	case *structpb.Value_StringValue:
		return appendString(b, k.StringValue)
	case *structpb.Value_NumberValue:
		return appendNumber(b, k.NumberValue)
	case *structpb.Value_BoolValue:
		return strconv.AppendBool(b, k.BoolValue)
	case *structpb.Value_StructValue:
		fields := k.StructValue.GetFields()
		keys := make([]string, 0, len(fields))
		for key := range fields {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, key := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, key)
			b = append(b, ':')
			b = appendJSON(b, fields[key])
		}
		return append(b, '}')
	case *structpb.Value_ListValue:
		b = append(b, '[')
		for i, item := range k.ListValue.GetValues() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, item)
		}
		return append(b, ']')
	}
	return append(b, "null"...) // NullValue, or no kind set
}

func appendNumber(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	// encoding/json's choice: plain digits between 1e-6 and 1e21.
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, f, format, -1, 64)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Protobuf strings are valid UTF-8,
// so only quotes, backslashes and control characters need escaping.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
