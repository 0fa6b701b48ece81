# Leaf modules of the engine (encoding, response parsing, libcurl transport).
# Included by engine/CMakeLists.txt into b24gate_engine; paths are relative to
# engine/.
set(B24GATE_ENGINE_LEAF_SOURCES
  query_encoder.cc
  bitrix_response.cc
  curl_transport.cc
)
