use az_othello::Othello;

#[test]
fn conformance_kit() {
    az_game::testkit::check_game::<Othello>(include_str!("perft.txt"), 100);
    az_game::testkit::check_board::<Othello>(50, 0xb0a2d);
}
