package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/auth"
)

// userResponse is the public view of a user, as the tutorial's UserResponse
// (plus created_at). The password hash has no field here, so it cannot leak.
type userResponse struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
	IsActive bool   `json:"is_active"`
	// EmailVerified is whether the user followed a link mailed to Email.
	EmailVerified bool      `json:"email_verified"`
	CreatedAt     time.Time `json:"created_at"`
}

func newUserResponse(u *gatehouse.User) userResponse {
	return userResponse{ID: u.ID, Username: u.Username, Email: u.Email, IsActive: u.IsActive,
		EmailVerified: !u.EmailVerifiedAt.IsZero(), CreatedAt: u.CreatedAt.UTC()}
}

func handleRoot() http.Handler {
	type response struct {
		Message   string            `json:"message"`
		Docs      string            `json:"docs"`
		Version   string            `json:"version"`
		Endpoints map[string]string `json:"endpoints"`
	}
	body := response{
		Message: "JWT Authentication API",
		Docs:    "/docs",
		Version: gatehouse.Version,
		Endpoints: map[string]string{
			"register": "POST /auth/register",
			"login":    "POST /auth/login",
			"me":       "GET /users/me (requires authentication)",
			"items":    "GET /users/me/items (requires authentication)",
			"openapi":  "GET /openapi.json",
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, body)
	})
}

func handleRegister(svc *auth.Service, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, ok := out.jsonStrings(w, r, "username", "email", "password")
		if !ok {
			return
		}
		u, err := svc.Register(r.Context(), auth.RegisterInput{
			Username: in["username"], Email: in["email"], Password: in["password"], ClientIP: clientIPFrom(r.Context()),
		})
		if err != nil {
			out.error(w, r, err)
			return
		}
		w.Header().Set("Location", "/users/me")
		encode(w, http.StatusCreated, newUserResponse(u))
	})
}

// tokenResponse is the body of every token answer (RFC 6749 §5.1): the
// tutorial's {access_token, token_type} plus the lifetime and refresh token.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope,omitempty"`
}

// writeTokens answers a token pair. RFC 6749 §5.1: token responses must not
// be cached.
func writeTokens(w http.ResponseWriter, p *auth.TokenPair) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	encode(w, http.StatusOK, tokenResponse{
		AccessToken: p.AccessToken, TokenType: "bearer", ExpiresIn: p.ExpiresIn, RefreshToken: p.RefreshToken, Scope: p.Scope,
	})
}

// clientOf collects the request facts recorded with a new session.
func clientOf(r *http.Request, clientID, scope string) auth.Client {
	return auth.Client{IP: clientIPFrom(r.Context()), UserAgent: r.UserAgent(), ClientID: clientID, Scope: scope}
}

// handleLogin is the OAuth2 password grant of the tutorial (and FastAPI's
// OAuth2PasswordRequestForm): a form with username and password, an optional
// grant_type that must then be "password", and optional scope and client_id.
// A JSON body with the same fields is accepted too, for clients that send
// nothing else. Unlike the RFC 6749 token endpoint (/auth/token), bad
// credentials answer 401, as the tutorial does.
func handleLogin(svc *auth.Service, obs Observer, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt, ok := out.requireContentType(w, r, "application/x-www-form-urlencoded", "multipart/form-data", "application/json")
		if !ok {
			return
		}
		in, err := loginFields(r, mt)
		if err != nil {
			out.error(w, r, err)
			return
		}
		pair, err := svc.Login(r.Context(), in.username, in.password, clientOf(r, in.clientID, in.scope))
		obs.LoginOutcome(outcome(err))
		if err != nil {
			out.error(w, r, err)
			return
		}
		writeTokens(w, pair)
	})
}

// outcome names a login's result for metrics: "success" or the error code.
func outcome(err error) string {
	if err == nil {
		return "success"
	}
	return gatehouse.ErrorCode(err)
}

type loginInput struct{ username, password, clientID, scope string }

// loginFields reads the login from a form or JSON body.
func loginFields(r *http.Request, mediaType string) (loginInput, error) {
	if mediaType == "application/json" {
		raw, err := decodeJSON(r)
		if err != nil {
			return loginInput{}, err
		}
		in, problems := stringFields(raw, "username", "password")
		if len(problems) > 0 {
			return loginInput{}, gatehouse.ValidationError(problems...)
		}
		return loginInput{username: in["username"], password: in["password"]}, nil
	}
	var err error
	if mediaType == "multipart/form-data" {
		err = r.ParseMultipartForm(0) // nothing kept in memory beyond the body cap, which already applies
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		return loginInput{}, formError(err)
	}
	var problems []gatehouse.FieldError
	if gt := r.PostForm["grant_type"]; len(gt) > 0 && gt[0] != "password" {
		problems = append(problems, gatehouse.FieldError{Loc: []string{"body", "grant_type"}, Type: "grant_type_invalid"})
	}
	for _, name := range []string{"username", "password"} {
		if r.PostForm.Get(name) == "" {
			problems = append(problems, gatehouse.FieldError{Loc: []string{"body", name}, Type: "missing"})
		}
	}
	if len(problems) > 0 {
		return loginInput{}, gatehouse.ValidationError(problems...)
	}
	f := r.PostForm
	return loginInput{username: f.Get("username"), password: f.Get("password"), clientID: f.Get("client_id"), scope: f.Get("scope")}, nil
}

func handleMe(out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, newUserResponse(gatehouse.UserFromContext(r.Context())))
	})
}

// handleMyItems is the tutorial's example of a protected resource.
func handleMyItems(out *responder) http.Handler {
	type item struct {
		ItemID int    `json:"item_id"`
		Owner  string `json:"owner"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := gatehouse.UserFromContext(r.Context())
		encode(w, http.StatusOK, []item{{ItemID: 1, Owner: u.Username}, {ItemID: 2, Owner: u.Username}})
	})
}

type statusBody struct {
	Status string `json:"status"`
}

// handleHealthz is liveness: the process serves HTTP. It checks nothing else,
// so an orchestrator does not restart a healthy process over a database blip.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, statusBody{Status: "ok"})
	})
}

// handleReadyz is readiness: every dependency answers a ping in time.
func handleReadyz(deps map[string]gatehouse.Pinger, out *responder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		var errs []error
		for name, p := range deps {
			if err := p.Ping(ctx); err != nil {
				errs = append(errs, gatehouse.Errorf(gatehouse.CodeNotReady, "%s: %w", name, err))
			}
		}
		if len(errs) > 0 {
			err := errors.Join(errs...)
			out.log.LogAttrs(r.Context(), slog.LevelWarn, "not ready", slog.String("error", err.Error()))
			out.error(w, r, &gatehouse.Error{Code: gatehouse.CodeNotReady, Err: err})
			return
		}
		encode(w, http.StatusOK, statusBody{Status: "ok"})
	})
}
