#pragma once
// One registration function per translation unit, called from main in a fixed order.

namespace bench {
void register_chain_100();
void register_chain_1000();
void register_fan();
void register_dag();
void register_tbb();
void register_checkpoint_100();
void register_checkpoint_1000();
void register_checkpoint_load();
void register_checkpoint_segmented();
void register_operator_listeners();
}  // namespace bench
