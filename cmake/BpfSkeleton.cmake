# bpf_skeleton(NAME <name> SOURCES <file.bpf.c>... DEPENDS <header>...)
#
# Compiles each BPF source with clang, links the objects into one with
# `bpftool gen object`, and generates <name>.skel.h from it with `bpftool gen skeleton`.
# Defines an INTERFACE library <name>_skel whose include directory holds the skeleton.
#
# vmlinux.h is generated at build time from TCPTRACE_VMLINUX_BTF, the running kernel's
# BTF by default. CO-RE relocates every field access at load time, so the kernel the
# header came from need not be the one tcptrace later runs on.

find_program(CLANG_EXECUTABLE NAMES clang clang-16 clang-15 clang-14 REQUIRED)
find_program(BPFTOOL_EXECUTABLE NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
set(TCPTRACE_VMLINUX_BTF "/sys/kernel/btf/vmlinux" CACHE FILEPATH
    "Kernel BTF that vmlinux.h is generated from")

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|amd64")
  set(BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(BPF_TARGET_ARCH arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "ppc64le")
  set(BPF_TARGET_ARCH powerpc)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "s390x")
  set(BPF_TARGET_ARCH s390)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "riscv64")
  set(BPF_TARGET_ARCH riscv)
else()
  message(FATAL_ERROR "no BPF target arch known for ${CMAKE_SYSTEM_PROCESSOR}")
endif()

if(NOT EXISTS "${TCPTRACE_VMLINUX_BTF}")
  message(FATAL_ERROR "${TCPTRACE_VMLINUX_BTF} is missing: build on a kernel with "
          "CONFIG_DEBUG_INFO_BTF=y, or point -DTCPTRACE_VMLINUX_BTF= at a BTF file")
endif()

function(bpf_skeleton)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;DEPENDS" ${ARGN})
  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/bpf")
  set(vmlinux_h "${out_dir}/vmlinux.h")
  file(MAKE_DIRECTORY "${out_dir}")

  add_custom_command(OUTPUT "${vmlinux_h}"
    COMMAND sh -c "'${BPFTOOL_EXECUTABLE}' btf dump file '${TCPTRACE_VMLINUX_BTF}' format c > '${vmlinux_h}.tmp'"
    COMMAND ${CMAKE_COMMAND} -E rename "${vmlinux_h}.tmp" "${vmlinux_h}"
    COMMENT "Generating vmlinux.h from ${TCPTRACE_VMLINUX_BTF}"
    VERBATIM)

  set(objects "")
  foreach(source ${ARG_SOURCES})
    get_filename_component(stem "${source}" NAME_WE)
    set(object "${out_dir}/${stem}.bpf.o")
    add_custom_command(OUTPUT "${object}"
      COMMAND "${CLANG_EXECUTABLE}" -g -O2 -target bpf -mcpu=v3
              -D__TARGET_ARCH_${BPF_TARGET_ARCH}
              -Wall -Wextra -Werror -Wno-unused-parameter
              -I "${out_dir}" ${LIBBPF_INCLUDE_FLAGS}
              -c "${CMAKE_CURRENT_SOURCE_DIR}/${source}" -o "${object}"
      DEPENDS "${source}" ${ARG_DEPENDS} "${vmlinux_h}"
      COMMENT "Compiling BPF ${source}"
      VERBATIM)
    list(APPEND objects "${object}")
  endforeach()

  set(linked "${out_dir}/${ARG_NAME}.bpf.o")
  set(skeleton "${out_dir}/${ARG_NAME}.skel.h")
  add_custom_command(OUTPUT "${linked}"
    COMMAND "${BPFTOOL_EXECUTABLE}" gen object "${linked}" ${objects}
    DEPENDS ${objects}
    COMMENT "Linking BPF object ${ARG_NAME}.bpf.o"
    VERBATIM)
  add_custom_command(OUTPUT "${skeleton}"
    COMMAND sh -c "'${BPFTOOL_EXECUTABLE}' gen skeleton '${linked}' name '${ARG_NAME}' > '${skeleton}.tmp'"
    COMMAND ${CMAKE_COMMAND} -E rename "${skeleton}.tmp" "${skeleton}"
    DEPENDS "${linked}"
    COMMENT "Generating BPF skeleton ${ARG_NAME}.skel.h"
    VERBATIM)

  add_custom_target(${ARG_NAME}_skel_gen DEPENDS "${skeleton}")
  add_library(${ARG_NAME}_skel INTERFACE)
  add_dependencies(${ARG_NAME}_skel ${ARG_NAME}_skel_gen)
  target_include_directories(${ARG_NAME}_skel INTERFACE "${out_dir}")
endfunction()
