# Writes OUT from TEMPLATE with VITRIFY_GIT_COMMIT set to `git describe --always --dirty` of
# SOURCE_DIR ("unknown" outside a git checkout or without git). configure_file rewrites OUT only
# when its text changes, so running this at every build recompiles nothing after an unchanged
# commit. Run at configure time (include) and by the target vitrify_git_commit (cmake -P).
find_program(VITRIFY_GIT_EXECUTABLE git)
set(VITRIFY_GIT_COMMIT "unknown")
if(VITRIFY_GIT_EXECUTABLE)
  execute_process(COMMAND ${VITRIFY_GIT_EXECUTABLE} describe --always --dirty --abbrev=12
                  WORKING_DIRECTORY ${SOURCE_DIR}
                  OUTPUT_VARIABLE described
                  RESULT_VARIABLE described_status
                  OUTPUT_STRIP_TRAILING_WHITESPACE
                  ERROR_QUIET)
  if(described_status EQUAL 0 AND NOT described STREQUAL "")
    set(VITRIFY_GIT_COMMIT "${described}")
  endif()
endif()
configure_file(${TEMPLATE} ${OUT} @ONLY)
