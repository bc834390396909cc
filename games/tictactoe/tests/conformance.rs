use az_tictactoe::TicTacToe;

#[test]
fn conformance_kit() {
    az_game::testkit::check_game::<TicTacToe>(include_str!("perft.txt"), 300);
}
