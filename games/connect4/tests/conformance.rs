use az_connect4::Connect4;

#[test]
fn conformance_kit() {
    az_game::testkit::check_game::<Connect4>(include_str!("perft.txt"), 300);
    az_game::testkit::check_board::<Connect4>(50, 0xb0a2d);
}
