# b24gate_unity(TARGET [SIZE N])
#
# Compiles the .cc sources of the library or executable TARGET N at a time
# (default B24GATE_UNITY_BATCH; the test binaries pass B24GATE_TEST_UNITY_BATCH)
# as one translation unit: the files of a folder include the same headers
# (Abseil, nlohmann/json, gRPC, gtest, the standard library) and instantiate
# the same templates, which a batch parses and optimises once instead of once
# a file. Measured with g++ 12, -O2 -g1 (CI's flags), CPU user+sys: the 53
# files of the ten engine libraries batched first take 226 s one at a time,
# 94 s in 10 batches (portal/: 85.7 s -> 24.6 s); the engine's gateway,
# events, lists and files and the emulator's data layer, 70 files, 385 s ->
# 147 s in 10 batches.
#
# Unlike CMake's UNITY_BUILD, the batch files include the sources by their
# path from the repository's root ("engine/common/clock.cc"), so they are the
# same text in every clone: ccache (CCACHE_BASEDIR, scripts/build.sh) finds a
# batch another checkout on this machine compiled, whatever its path (CI
# clones into a new path each time).
#
# Files of one batch share one translation unit: two of them must not define
# the same name in an anonymous namespace (or `static`); a clash is a
# compile error naming both. The batches follow the order of the target's
# source list; a file with compile definitions or options of its own
# compiles on its own. B24GATE_UNITY_BATCH=0 compiles each file on its own
# (quicker to rebuild after editing one file of a library).
set(B24GATE_UNITY_BATCH 8 CACHE STRING
  "Library source files compiled together as one translation unit (0: one at a time)")

function(b24gate_unity target)
  cmake_parse_arguments(ARG "" "SIZE" "" ${ARGN})
  set(size ${B24GATE_UNITY_BATCH})
  if(DEFINED ARG_SIZE)
    set(size ${ARG_SIZE})
  endif()
  if(NOT size GREATER 1)
    return()
  endif()
  get_target_property(sources ${target} SOURCES)
  get_target_property(source_dir ${target} SOURCE_DIR)
  set(batched)
  foreach(source ${sources})
    if(NOT source MATCHES "\\.cc$")
      continue()
    endif()
    # A file with definitions or options of its own compiles on its own, as
    # in CMake's UNITY_BUILD (a batch has only the target's).
    get_source_file_property(defs ${source} TARGET_DIRECTORY ${target} COMPILE_DEFINITIONS)
    get_source_file_property(opts ${source} TARGET_DIRECTORY ${target} COMPILE_OPTIONS)
    if(defs OR opts)
      continue()
    endif()
    list(APPEND batched ${source})
  endforeach()
  # At most `size` files a batch, and the batches of even size (60 files at
  # 32 make two batches of 30, not 32 and 28), so that no batch is left to
  # compile alone at the end of a build.
  list(LENGTH batched total)
  if(total EQUAL 0)
    return()
  endif()
  math(EXPR batches "(${total} + ${size} - 1) / ${size}")
  math(EXPR size "(${total} + ${batches} - 1) / ${batches}")
  set(batch 0)
  set(count 0)
  set(content "")
  set(batch_files)
  foreach(source ${batched})
    get_filename_component(path ${source} ABSOLUTE BASE_DIR ${source_dir})
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${path})
    string(APPEND content "#include \"${rel}\"\n")
    list(APPEND batch_files ${path})
    math(EXPR count "${count} + 1")
    if(count EQUAL size)
      _b24gate_unity_batch(${target} ${batch} "${content}" "${batch_files}")
      math(EXPR batch "${batch} + 1")
      set(count 0)
      set(content "")
      set(batch_files)
    endif()
  endforeach()
  if(count GREATER 0)
    _b24gate_unity_batch(${target} ${batch} "${content}" "${batch_files}")
  endif()
  # The batch files' #include lines are relative to the repository's root.
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR})
  # g++ takes an included .cc for a header and warns of each class whose
  # members use a type of the file's anonymous namespace (a real problem only
  # in a header that several files include; a batch's files are included once).
  target_compile_options(${target} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-subobject-linkage>)
endfunction()

# One batch: a file of #include lines (rewritten only when it changes, so an
# unchanged batch is not recompiled), compiled instead of its sources. A
# batch of one file compiles the file itself.
function(_b24gate_unity_batch target batch content files)
  list(LENGTH files n)
  if(n LESS 2)
    return()
  endif()
  get_target_property(binary_dir ${target} BINARY_DIR)
  set(out ${binary_dir}/${target}_unity/batch_${batch}.cc)
  file(CONFIGURE OUTPUT ${out} CONTENT "${content}" @ONLY)
  target_sources(${target} PRIVATE ${out})
  set_source_files_properties(${files} TARGET_DIRECTORY ${target} PROPERTIES HEADER_FILE_ONLY ON)
endfunction()
