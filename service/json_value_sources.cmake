# JSON <-> google.protobuf.Value conversions. Included by service/CMakeLists.txt
# into the b24gate::json_value library; paths are relative to service/.
set(B24GATE_JSON_VALUE_SOURCES
  json_value.cc
)
