/* list_listen_out.h: listener set rules and the listen output formats (test_listen_out.c). */
TEST_ENTRY(listen_exposure_classes)
TEST_ENTRY(listen_sort_orders_and_groups_reuseport_members)
TEST_ENTRY(listen_filters_keep_ports_process_and_exposure)
TEST_ENTRY(listen_text_table_is_exact)
TEST_ENTRY(listen_json_is_exact)
TEST_ENTRY(listen_csv_is_exact)
TEST_ENTRY(listen_prometheus_is_exact)
TEST_ENTRY(listen_watch_event_lines_are_exact)
