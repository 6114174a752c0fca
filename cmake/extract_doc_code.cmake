# Extract the marked C++ blocks of a markdown file into one source file, so that an example written
# once, in the documentation, is compiled and run by the tests and cannot drift from the library.
#
#   cmake -DIN=<file.md> -DOUT=<file.cpp> -DMARK=<name> -P extract_doc_code.cmake
#
# A block belongs to the program when the line right before its ```cpp fence is the HTML comment
# `<!-- MARK -->` (invisible when the markdown is rendered). Marked blocks are concatenated in the
# order they appear; each is preceded by a #line directive, so compiler messages point at the
# markdown's own lines. Unmarked blocks (fragments, signatures) are left out. Fails when there is no
# marked block, when a marker is not followed by a ```cpp fence, or when a block is not closed.
foreach(var IN ITEMS IN OUT MARK)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "extract_doc_code.cmake: -D${var}=... is required")
  endif()
endforeach()

# Read the whole file and split it into lines by hand: file(STRINGS) would drop empty lines.
file(READ "${IN}" text ENCODING UTF-8)
string(REPLACE "\r\n" "\n" text "${text}")
# Protect list separators so that the text can be split into a CMake list of lines.
string(REPLACE ";" "@SEMICOLON@" text "${text}")
string(REPLACE "[" "@LBRACKET@" text "${text}")
string(REPLACE "]" "@RBRACKET@" text "${text}")
string(REPLACE "\n" ";" lines "${text}")

set(marker "<!-- ${MARK} -->")
set(out "// Generated from ${IN} (blocks marked ${marker}) by cmake/extract_doc_code.cmake.\n")
string(APPEND out "// Do not edit: edit the markdown.\n")
set(state "prose")  # prose | marked | code
set(blocks 0)
set(n 0)
foreach(line IN LISTS lines)
  math(EXPR n "${n} + 1")
  if(state STREQUAL "code")
    if(line MATCHES "^```[ \t]*$")
      set(state "prose")
    else()
      string(APPEND out "${line}\n")
    endif()
  elseif(state STREQUAL "marked")
    if(line MATCHES "^```(cpp|c\\+\\+)[ \t]*$")
      math(EXPR first "${n} + 1")
      string(APPEND out "#line ${first} \"${IN}\"\n")
      set(state "code")
      math(EXPR blocks "${blocks} + 1")
    else()
      message(FATAL_ERROR "${IN}:${n}: the line after ${marker} must open a ```cpp block")
    endif()
  else()
    string(STRIP "${line}" stripped)
    if(stripped STREQUAL marker)
      set(state "marked")
    endif()
  endif()
endforeach()
if(NOT state STREQUAL "prose")
  message(FATAL_ERROR "${IN}: a block marked ${marker} is not closed by ```")
endif()
if(blocks EQUAL 0)
  message(FATAL_ERROR "${IN}: no block marked ${marker}")
endif()

string(REPLACE "@SEMICOLON@" ";" out "${out}")
string(REPLACE "@LBRACKET@" "[" out "${out}")
string(REPLACE "@RBRACKET@" "]" out "${out}")
# Write only on change, so that an unchanged markdown does not rebuild the program.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL out)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${out}")
message(STATUS "extract_doc_code: ${blocks} block(s) of ${IN} -> ${OUT}")
