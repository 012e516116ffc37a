# cmake -DIN=page.8 -DOUT=page.8 -DSOURCE_DIR=dir -P InlineManPage.cmake
# Writes IN to OUT with each ".so man/<fragment>.roff" line replaced by that fragment, so
# that a part several pages share is written once in the sources and the installed pages
# stand alone (man(1) resolves .so against the manual's root, where no fragment is).
# Alias pages (".so man8/<page>.8") are left as they are.
file(READ "${IN}" text)
string(REGEX MATCHALL "\n\\.so man/[^\n]+\\.roff" includes "\n${text}")
foreach(include ${includes})
  string(REGEX REPLACE "^\n\\.so " "" fragment "${include}")
  if(NOT EXISTS "${SOURCE_DIR}/${fragment}")
    message(FATAL_ERROR "${IN}: .so ${fragment}: no such file")
  endif()
  file(READ "${SOURCE_DIR}/${fragment}" body)
  string(REGEX REPLACE "\n$" "" body "${body}")
  string(REPLACE ".so ${fragment}" "${body}" text "${text}")
endforeach()
file(WRITE "${OUT}.tmp" "${text}")
file(RENAME "${OUT}.tmp" "${OUT}")
