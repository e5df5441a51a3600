# The library layout (cmake/layout.txt) as CMake sees it: calgate_library() builds one library of
# the table and refuses, at configure time, a link to a library the table does not allow.
#
#   calgate_library(<name> [SOURCES src...] [PUBLIC <calgate libs...>] [PRIVATE <calgate libs...>])
#
# makes target calgate_<name> (alias calgate::<name>) from <folder>/src, with <folder>/include as its
# public include root and <folder>/src as a private one. Without SOURCES it is a header-only
# (INTERFACE) library. A folder with an internal/ include root (headers for the library's own tests,
# benchmarks and fuzz targets) also gets calgate_<name>_internal (alias calgate::<name>_internal),
# which those link explicitly. Third-party libraries are linked by the caller as usual.

set(CALGATE_LAYOUT_FILE ${CMAKE_CURRENT_LIST_DIR}/layout.txt)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CALGATE_LAYOUT_FILE})

file(STRINGS ${CALGATE_LAYOUT_FILE} _calgate_layout_lines REGEX "^[a-z]")
foreach(_line IN LISTS _calgate_layout_lines)
  string(REGEX REPLACE "[ \t]+" ";" _fields "${_line}")
  list(POP_FRONT _fields _name _folder _prefix)
  if(_name MATCHES "^binary:")
    continue()
  endif()
  set(CALGATE_LAYOUT_FOLDER_${_name} ${_folder})
  set(CALGATE_LAYOUT_USES_${_name} ${_fields})
  list(APPEND CALGATE_LAYOUT_LIBRARIES ${_name})
endforeach()

# Everything `name` may use: the transitive closure of its "may use" column.
function(_calgate_layout_closure name out)
  set(result "")
  set(queue ${CALGATE_LAYOUT_USES_${name}})
  while(queue)
    list(POP_FRONT queue next)
    if(NOT next IN_LIST result)
      list(APPEND result ${next})
      list(APPEND queue ${CALGATE_LAYOUT_USES_${next}})
    endif()
  endwhile()
  set(${out} ${result} PARENT_SCOPE)
endfunction()

function(calgate_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC;PRIVATE" ${ARGN})
  if(NOT name IN_LIST CALGATE_LAYOUT_LIBRARIES)
    message(FATAL_ERROR "calgate_library(${name}): not a library of cmake/layout.txt")
  endif()
  file(RELATIVE_PATH folder ${CMAKE_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  if(NOT folder STREQUAL CALGATE_LAYOUT_FOLDER_${name})
    message(FATAL_ERROR "calgate_library(${name}) is declared in ${folder}, but cmake/layout.txt puts it in "
                        "${CALGATE_LAYOUT_FOLDER_${name}}")
  endif()
  _calgate_layout_closure(${name} allowed)
  foreach(dep IN LISTS ARG_PUBLIC ARG_PRIVATE)
    if(NOT dep IN_LIST allowed)
      message(FATAL_ERROR "calgate_library(${name}) links ${dep}, which cmake/layout.txt does not allow it to use "
                          "(it may use: ${allowed})")
    endif()
  endforeach()
  list(TRANSFORM ARG_PUBLIC PREPEND calgate::)
  list(TRANSFORM ARG_PRIVATE PREPEND calgate::)

  if(ARG_SOURCES)
    add_library(calgate_${name} ${ARG_SOURCES})
    target_include_directories(calgate_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                               PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
    target_link_libraries(calgate_${name} PUBLIC ${ARG_PUBLIC} PRIVATE ${ARG_PRIVATE} calgate_warnings)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/internal)
      target_include_directories(calgate_${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/internal)
      add_library(calgate_${name}_internal INTERFACE)
      add_library(calgate::${name}_internal ALIAS calgate_${name}_internal)
      target_include_directories(calgate_${name}_internal INTERFACE ${CMAKE_CURRENT_SOURCE_DIR}/internal)
      target_link_libraries(calgate_${name}_internal INTERFACE calgate_${name})
    endif()
  else()
    add_library(calgate_${name} INTERFACE)
    target_include_directories(calgate_${name} INTERFACE ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_link_libraries(calgate_${name} INTERFACE ${ARG_PUBLIC} ${ARG_PRIVATE})
  endif()
  add_library(calgate::${name} ALIAS calgate_${name})
endfunction()
