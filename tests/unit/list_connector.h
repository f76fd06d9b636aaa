/* list_connector.h: connector tests added after list.h (CMake reads every list*.h). */
TEST_ENTRY(connect_keep_hands_the_connected_fd_over)
