package routes

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
)

// checkCBExpression checks a circuit breaker expression the way Traefik v3
// will read it (github.com/vulcand/oxy/v2 cbreaker/predicates.go, parsed
// by github.com/vulcand/predicate as a Go expression): comparisons of
// NetworkErrorRatio() or ResponseCodeRatio(a, b, c, d) with a decimal
// number (0.5), or of LatencyAtQuantileMS(q.q) with a whole number, the
// function on the left, joined by && and ||. Traefik v1.7 took the same
// expressions. A bad one would disable the router in Traefik; here only
// the label is dropped. Its errors never show the expression.
func checkCBExpression(expr string) error {
	if expr == "" {
		return errors.New("is empty")
	}
	e, err := parser.ParseExpr(expr)
	if err != nil {
		return errors.New("is not an expression (NetworkErrorRatio() > 0.5, LatencyAtQuantileMS(50.0) > 100, …)")
	}
	return checkCBNode(e)
}

func checkCBNode(n ast.Expr) error {
	switch e := n.(type) {
	case *ast.ParenExpr:
		return checkCBNode(e.X)
	case *ast.BinaryExpr:
		switch e.Op {
		case token.LAND, token.LOR:
			if err := checkCBNode(e.X); err != nil {
				return err
			}
			return checkCBNode(e.Y)
		case token.GTR, token.GEQ, token.LSS, token.LEQ, token.EQL, token.NEQ:
			return checkCBComparison(e)
		}
		return fmt.Errorf("operator %s is not one of && || > >= < <= == !=", e.Op)
	}
	return errors.New("is not a comparison of NetworkErrorRatio(), ResponseCodeRatio(…) or LatencyAtQuantileMS(…) with a number")
}

// checkCBComparison checks <function call> <op> <number>.
func checkCBComparison(e *ast.BinaryExpr) error {
	call, ok := e.X.(*ast.CallExpr)
	if !ok {
		return errors.New("a comparison must start with NetworkErrorRatio(), ResponseCodeRatio(…) or LatencyAtQuantileMS(…)")
	}
	fn, ok := call.Fun.(*ast.Ident)
	if !ok {
		return errors.New("calls something other than NetworkErrorRatio, ResponseCodeRatio or LatencyAtQuantileMS")
	}
	var args []token.Token
	result := token.FLOAT
	switch fn.Name {
	case "NetworkErrorRatio":
	case "ResponseCodeRatio":
		args = []token.Token{token.INT, token.INT, token.INT, token.INT}
	case "LatencyAtQuantileMS":
		args, result = []token.Token{token.FLOAT}, token.INT
	default:
		return errors.New("calls a function other than NetworkErrorRatio, ResponseCodeRatio or LatencyAtQuantileMS")
	}
	if len(call.Args) != len(args) {
		return fmt.Errorf("%s takes %d arguments", fn.Name, len(args))
	}
	for i, a := range call.Args {
		if !isLiteral(a, args[i]) {
			return fmt.Errorf("argument %d of %s is not a %s", i+1, fn.Name, literalKind(args[i]))
		}
	}
	if !isLiteral(e.Y, result) {
		return fmt.Errorf("%s compares with a %s", fn.Name, literalKind(result))
	}
	return nil
}

func isLiteral(e ast.Expr, k token.Token) bool {
	l, ok := e.(*ast.BasicLit)
	return ok && l.Kind == k
}

func literalKind(k token.Token) string {
	if k == token.INT {
		return "whole number (100)"
	}
	return "decimal number (0.5, 50.0)"
}
