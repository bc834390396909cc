use az_tictactoe::TicTacToe;

#[test]
fn conformance_kit() {
    az_game::testkit::check_game::<TicTacToe>(include_str!("perft.txt"), 300);
    az_game::testkit::check_board::<TicTacToe>(50, 0xb0a2d);
}
