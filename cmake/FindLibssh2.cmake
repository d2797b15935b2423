find_path(Libssh2_INCLUDE_DIR libssh2.h)
find_library(Libssh2_LIBRARY ssh2)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Libssh2 DEFAULT_MSG Libssh2_LIBRARY Libssh2_INCLUDE_DIR)
if(Libssh2_FOUND AND NOT TARGET Libssh2::libssh2)
  add_library(Libssh2::libssh2 UNKNOWN IMPORTED)
  set_target_properties(Libssh2::libssh2 PROPERTIES
    IMPORTED_LOCATION "${Libssh2_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Libssh2_INCLUDE_DIR}")
endif()
